//! The command line itself: usage errors under `-o json`, which commands
//! take which flags, and shell completion. None of these runs send
//! anything.

mod common;

use common::Scratch;

/// Regression: usage errors were plain text under `-o json`, though the
/// docs list a JSON error kind `usage`.
#[test]
fn usage_errors_are_json_when_json_output_is_asked_for() {
    let s = Scratch::new();
    for args in [
        &["plan", "--frobnicate", "-o", "json"][..],
        &["-o", "json", "plan", "--frobnicate"],
        &["plan", "--output=json", "--frobnicate"],
        &["--output", "json", "nonsense"],
        &["get", "-o", "json"],
    ] {
        let run = s.run(args);
        run.expect_code(2);
        let err = run.json_error();
        assert_eq!(err["error"]["kind"], "usage", "{args:?}");
        assert_eq!(err["error"]["exit_code"], 2, "{args:?}");
        let problem = &err["error"]["problems"][0];
        assert!(
            problem["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{args:?}: {err}"
        );
        assert!(problem["rule"].is_string(), "{args:?}: {err}");
    }
    let run = s.run(&["plan", "--frobnicate", "-o", "json"]);
    assert_eq!(run.json_error()["error"]["problems"][0]["field"], "--frobnicate");
    assert_eq!(run.json_error()["error"]["problems"][0]["rule"], "unknown_argument");
    // Text stays clap's own, with its usage line.
    let run = s.run(&["plan", "--frobnicate"]);
    run.expect_code(2);
    assert!(run.stderr.contains("Usage:"), "{}", run.stderr);
}

/// Regression: `schema` and `capabilities` listed `-f`, `--profile` and
/// `--emulate`, which do nothing there.
#[test]
fn commands_without_a_file_neither_list_nor_take_file_flags() {
    let s = Scratch::new();
    for cmd in ["schema", "capabilities", "completion"] {
        let run = s.run(&[cmd, "--help"]);
        run.expect_code(0);
        for flag in ["--file", "--profile", "--emulate"] {
            assert!(
                !run.stdout.contains(flag),
                "`{cmd} --help` lists {flag}:\n{}",
                run.stdout
            );
        }
    }
    s.run(&["schema", "-f", "x.toml"]).expect_code(2);
    s.run(&["capabilities", "--emulate"]).expect_code(2);
    s.run(&["schema"]).expect_code(0);
    for cmd in ["plan", "apply", "get", "list", "delete"] {
        let run = s.run(&[cmd, "--help"]);
        for flag in ["--file", "--profile", "--emulate"] {
            assert!(
                run.stdout.contains(flag),
                "`{cmd} --help` lacks {flag}:\n{}",
                run.stdout
            );
        }
    }
    let run = s.run(&["validate", "--help"]);
    assert!(
        run.stdout.contains("--file") && run.stdout.contains("--profile"),
        "{}",
        run.stdout
    );
}

/// The environment variables still stand in for `-f` and `--profile`.
#[test]
fn file_and_profile_come_from_the_environment_too() {
    let s = Scratch::new();
    let file = s.write(
        "l.toml",
        "[profiles.a]\napi = \"tencent-gaap\"\ninstance = \"link-1\"\n\n\
         [profiles.b]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\n\
         [[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n",
    );
    let out = common::cli(s.home())
        .args(["validate", "-o", "json"])
        .env("LISTENERCTL_FILE", &file)
        .env("LISTENERCTL_PROFILE", "nope")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON error");
    assert_eq!(err["error"]["kind"], "profile", "{err}");
    let out = common::cli(s.home())
        .args(["validate", "--profile", "b"])
        .env("LISTENERCTL_FILE", &file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn completion_scripts_name_the_subcommands() {
    let s = Scratch::new();
    let run = s.run(&["completion", "bash"]);
    run.expect_code(0);
    for sub in [
        "validate",
        "plan",
        "apply",
        "get",
        "list",
        "delete",
        "schema",
        "capabilities",
        "completion",
    ] {
        assert!(run.stdout.contains(sub), "bash completion lacks {sub}");
    }
    assert!(
        run.stdout.contains("--allow-replace"),
        "bash completion lacks apply's flags"
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = s.run(&["completion", shell]);
        run.expect_code(0);
        assert!(
            run.stdout.contains("listenerctl") && run.stdout.contains("apply"),
            "{shell}"
        );
    }
    s.run(&["completion", "tcsh"]).expect_code(2);
}
