//! The credential chain with an injected environment and temporary files:
//! never the real `$HOME` or process environment.

mod common;

use std::collections::HashMap;
use std::path::Path;

use alibaba_api::client::AlibabaClient;
use alibaba_api::credentials::{
    from_cli_config, from_env, from_shared_file, resolve, CredentialSource, Credentials, Env,
};
use listener_core::{Error, InlineCredentials, ProfileConfig, Secret};

/// A fake environment: variables from a map.
fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn with_env<T>(map: &HashMap<String, String>, home: Option<&Path>, f: impl FnOnce(&Env<'_>) -> T) -> T {
    let lookup = |name: &str| map.get(name).cloned();
    let env = Env::new(&lookup, home);
    f(&env)
}

fn config_field(result: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    match result {
        Err(Error::Config { field, message }) => (field, message),
        other => panic!("expected a Config error, got {other:?}"),
    }
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

const CLI_FILE: &str = r#"{
  "current": "work",
  "profiles": [
    {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault", "access_key_secret": "cli-default-secret", "region_id": "cn-beijing"},
    {"name": "work", "mode": "AK", "access_key_id": "LTAIwork", "access_key_secret": "cli-work-secret", "region_id": "cn-shanghai"},
    {"name": "temp", "mode": "StsToken", "access_key_id": "STS.temp", "access_key_secret": "cli-temp-secret", "sts_token": "cli-sts-token", "region_id": ""},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "cli-role-secret", "ram_role_arn": "acs:ram::1:role/x"},
    {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "r"}
  ],
  "meta_path": ""
}"#;

#[test]
fn environment_pair_is_used_with_its_token() {
    let map = vars(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
    ]);
    let creds = with_env(&map, None, from_env).expect("ok").expect("found");
    assert_eq!(creds.access_key_id, "LTAIenv");
    assert_eq!(creds.access_key_secret.expose(), "env-secret");
    assert_eq!(creds.security_token.as_ref().map(Secret::expose), Some("env-token"));
}

#[test]
fn one_environment_key_alone_is_an_error_naming_the_missing_one() {
    let only_id = vars(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")]);
    let (field, _) = config_field(with_env(&only_id, None, from_env));
    assert_eq!(field, "ALIBABA_CLOUD_ACCESS_KEY_SECRET");

    let only_secret = vars(&[("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")]);
    let (field, message) = config_field(with_env(&only_secret, None, from_env));
    assert_eq!(field, "ALIBABA_CLOUD_ACCESS_KEY_ID");
    assert!(!message.contains("env-secret"));

    // An empty variable counts as unset.
    let empty = vars(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ""),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""),
    ]);
    assert!(with_env(&empty, None, from_env).expect("ok").is_none());
}

#[test]
fn environment_wins_over_the_cli_file_and_inline_wins_over_both() {
    let home = tempfile::tempdir().expect("tempdir");
    write(&home.path().join(".aliyun/config.json"), CLI_FILE);
    let map = vars(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
    ]);
    let resolved = with_env(&map, Some(home.path()), |env| resolve(None, env)).expect("found");
    assert_eq!(resolved.source, CredentialSource::Environment);
    assert_eq!(resolved.credentials.access_key_id, "LTAIenv");

    let inline = InlineCredentials {
        key_id: "LTAIinline".to_string(),
        secret: Secret::new("inline-secret"),
        token: None,
    };
    let resolved = with_env(&map, Some(home.path()), |env| resolve(Some(&inline), env)).expect("found");
    assert_eq!(resolved.source, CredentialSource::Inline);
    assert_eq!(resolved.credentials.access_key_id, "LTAIinline");
}

#[test]
fn cli_file_profile_comes_from_current_or_the_profile_variable() {
    let home = tempfile::tempdir().expect("tempdir");
    let path = home.path().join(".aliyun/config.json");
    write(&path, CLI_FILE);

    let none = vars(&[]);
    let (creds, source) = with_env(&none, Some(home.path()), from_cli_config)
        .expect("ok")
        .expect("found");
    assert_eq!(creds.access_key_id, "LTAIwork");
    assert_eq!(creds.access_key_secret.expose(), "cli-work-secret");
    assert_eq!(
        source,
        CredentialSource::CliConfig {
            path: path.clone(),
            profile: "work".to_string()
        }
    );

    let chosen = vars(&[("ALIBABA_CLOUD_PROFILE", "default")]);
    let (creds, _) = with_env(&chosen, Some(home.path()), from_cli_config)
        .expect("ok")
        .expect("found");
    assert_eq!(creds.access_key_id, "LTAIdefault");
}

#[test]
fn cli_file_sts_token_mode_carries_the_token() {
    let home = tempfile::tempdir().expect("tempdir");
    write(&home.path().join(".aliyun/config.json"), CLI_FILE);
    let map = vars(&[("ALIBABA_CLOUD_PROFILE", "temp")]);
    let (creds, _) = with_env(&map, Some(home.path()), from_cli_config)
        .expect("ok")
        .expect("found");
    assert_eq!(creds.access_key_id, "STS.temp");
    assert_eq!(creds.security_token.as_ref().map(Secret::expose), Some("cli-sts-token"));
}

#[test]
fn cli_file_role_modes_are_refused_by_name() {
    let home = tempfile::tempdir().expect("tempdir");
    write(&home.path().join(".aliyun/config.json"), CLI_FILE);
    for (profile, mode) in [("role", "RamRoleArn"), ("ecs", "EcsRamRole")] {
        let map = vars(&[("ALIBABA_CLOUD_PROFILE", profile)]);
        let (field, message) = config_field(with_env(&map, Some(home.path()), from_cli_config));
        assert!(field.contains(&format!("profile `{profile}`")), "{field}");
        assert!(message.contains(mode), "{message}");
        assert!(!message.contains("cli-role-secret"));
    }
}

#[test]
fn cli_file_override_path_is_used_and_must_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let custom = dir.path().join("custom.json");
    write(&custom, CLI_FILE);
    let map = vars(&[("ALIBABA_CLOUD_CONFIG_FILE", custom.to_str().expect("utf-8 path"))]);
    let (creds, _) = with_env(&map, None, from_cli_config).expect("ok").expect("found");
    assert_eq!(creds.access_key_id, "LTAIwork");

    let missing = dir.path().join("missing.json");
    let map = vars(&[("ALIBABA_CLOUD_CONFIG_FILE", missing.to_str().expect("utf-8 path"))]);
    let (field, _) = config_field(with_env(&map, None, from_cli_config));
    assert_eq!(field, "ALIBABA_CLOUD_CONFIG_FILE");
}

#[test]
fn malformed_cli_file_error_gives_position_not_content() {
    let home = tempfile::tempdir().expect("tempdir");
    write(
        &home.path().join(".aliyun/config.json"),
        r#"{"current":"default","profiles":[{"name":"default","access_key_secret": 12345678}]}"#,
    );
    let map = vars(&[]);
    let (_, message) = config_field(with_env(&map, Some(home.path()), from_cli_config));
    assert!(message.contains("line 1"), "{message}");
    assert!(!message.contains("12345678"), "{message}");
}

#[test]
fn shared_file_default_and_named_sections() {
    let home = tempfile::tempdir().expect("tempdir");
    write(
        &home.path().join(".alibabacloud/credentials"),
        "# shared credentials\n[default]\ntype = access_key\naccess_key_id = LTAIshared\naccess_key_secret = shared-secret\n\n[other]\naccess_key_id = LTAIother\naccess_key_secret = \"other-secret\"\n[role]\ntype = ram_role_arn\naccess_key_id = x\naccess_key_secret = y\n",
    );
    let none = vars(&[]);
    let (creds, source) = with_env(&none, Some(home.path()), from_shared_file)
        .expect("ok")
        .expect("found");
    assert_eq!(creds.access_key_id, "LTAIshared");
    assert_eq!(creds.access_key_secret.expose(), "shared-secret");
    assert!(matches!(source, CredentialSource::SharedFile { ref profile, .. } if profile == "default"));

    let other = vars(&[("ALIBABA_CLOUD_PROFILE", "other")]);
    let (creds, _) = with_env(&other, Some(home.path()), from_shared_file)
        .expect("ok")
        .expect("found");
    assert_eq!(creds.access_key_secret.expose(), "other-secret");

    let role = vars(&[("ALIBABA_CLOUD_PROFILE", "role")]);
    let (_, message) = config_field(with_env(&role, Some(home.path()), from_shared_file));
    assert!(message.contains("ram_role_arn"), "{message}");
}

#[test]
fn shared_file_override_path_and_malformed_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("creds.ini");
    write(
        &path,
        "[default]\naccess_key_id = LTAIo\naccess_key_secret = o-secret\n",
    );
    let map = vars(&[("ALIBABA_CLOUD_CREDENTIALS_FILE", path.to_str().expect("utf-8 path"))]);
    let (creds, _) = with_env(&map, None, from_shared_file).expect("ok").expect("found");
    assert_eq!(creds.access_key_id, "LTAIo");

    write(&path, "[default]\naccess_key_secret leaked-value\n");
    let (_, message) = config_field(with_env(&map, None, from_shared_file));
    assert!(message.contains("line 2"), "{message}");
    assert!(!message.contains("leaked-value"), "{message}");
}

#[test]
fn the_chain_falls_through_to_the_shared_file() {
    let home = tempfile::tempdir().expect("tempdir");
    write(
        &home.path().join(".alibabacloud/credentials"),
        "[default]\naccess_key_id = LTAIshared\naccess_key_secret = shared-secret\n",
    );
    // A CLI file without the selected profile is skipped, not an error.
    write(
        &home.path().join(".aliyun/config.json"),
        r#"{"current":"absent","profiles":[]}"#,
    );
    let none = vars(&[]);
    let resolved = with_env(&none, Some(home.path()), |env| resolve(None, env)).expect("found");
    assert!(matches!(resolved.source, CredentialSource::SharedFile { .. }));
}

#[test]
fn nothing_found_names_every_place_looked_at() {
    let home = tempfile::tempdir().expect("tempdir");
    let none = vars(&[]);
    let (field, message) = config_field(with_env(&none, Some(home.path()), |env| resolve(None, env)));
    assert_eq!(field, "credentials");
    for expected in [
        "inline_credentials",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        ".aliyun/config.json",
        ".alibabacloud/credentials",
    ] {
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn credentials_debug_is_redacted_and_bad_values_are_refused() {
    let creds = Credentials::new("LTAIx", Secret::new("dbg-secret"), Some(Secret::new("dbg-token")), "t").expect("ok");
    let shown = format!("{creds:?}");
    assert!(shown.contains("LTAIx"));
    assert!(!shown.contains("dbg-secret") && !shown.contains("dbg-token"), "{shown}");

    let (field, _) = config_field(Credentials::new("", Secret::new("s"), None, "where"));
    assert_eq!(field, "where");
    assert!(Credentials::new("LTAI x", Secret::new("s"), None, "where").is_err());
    assert!(Credentials::new("LTAIx", Secret::new(" "), None, "where").is_err());
    assert!(Credentials::new("LTAIx", Secret::new("s"), Some(Secret::new("a\nb")), "where").is_err());
}

fn profile(api: &str) -> ProfileConfig {
    let mut p = ProfileConfig::new(api, "alb-1");
    p.inline_credentials = Some(InlineCredentials {
        key_id: "LTAIinline".to_string(),
        secret: Secret::new("inline-secret"),
        token: None,
    });
    p
}

#[test]
fn from_profile_takes_region_from_profile_then_environment_then_cli_file() {
    let home = tempfile::tempdir().expect("tempdir");
    write(&home.path().join(".aliyun/config.json"), CLI_FILE);
    let build = |p: &ProfileConfig, map: &HashMap<String, String>| {
        with_env(map, Some(home.path()), |env| {
            AlibabaClient::from_profile_with_env(p, &common::ALB, env)
        })
    };

    let mut p = profile("alibaba-alb");
    p.region = Some("cn-shenzhen".to_string());
    let env_region = vars(&[("ALIBABA_CLOUD_REGION_ID", "cn-qingdao")]);
    let c = build(&p, &env_region).expect("client");
    assert_eq!(c.region(), "cn-shenzhen");
    assert_eq!(c.endpoint(), "https://alb.cn-shenzhen.aliyuncs.com/");

    p.region = None;
    assert_eq!(build(&p, &env_region).expect("client").region(), "cn-qingdao");
    // The CLI file's current profile (`work`) names cn-shanghai.
    assert_eq!(build(&p, &vars(&[])).expect("client").region(), "cn-shanghai");
}

#[test]
fn from_profile_needs_a_region_for_alb_but_not_for_ga() {
    let home = tempfile::tempdir().expect("tempdir");
    let none = vars(&[]);
    let alb = with_env(&none, Some(home.path()), |env| {
        AlibabaClient::from_profile_with_env(&profile("alibaba-alb"), &common::ALB, env)
    });
    assert_eq!(config_field(alb).0, "region");

    let ga = with_env(&none, Some(home.path()), |env| {
        AlibabaClient::from_profile_with_env(&profile("alibaba-ga"), &common::GA, env)
    })
    .expect("client");
    assert_eq!(ga.region(), "cn-hangzhou");
    assert_eq!(ga.endpoint(), "https://ga.cn-hangzhou.aliyuncs.com/");
}

#[test]
fn from_profile_applies_endpoint_and_refuses_another_api() {
    let home = tempfile::tempdir().expect("tempdir");
    let none = vars(&[]);
    let mut p = profile("alibaba-alb");
    p.region = Some("cn-hangzhou".to_string());
    p.endpoint = Some("http://127.0.0.1:18080".to_string());
    let refused = with_env(&none, Some(home.path()), |env| {
        AlibabaClient::from_profile_with_env(&p, &common::ALB, env)
    });
    assert_eq!(config_field(refused).0, "endpoint");

    p.allow_insecure_http = true;
    let c = with_env(&none, Some(home.path()), |env| {
        AlibabaClient::from_profile_with_env(&p, &common::ALB, env)
    })
    .expect("client");
    assert_eq!(c.endpoint(), "http://127.0.0.1:18080/");

    let wrong = with_env(&none, Some(home.path()), |env| {
        AlibabaClient::from_profile_with_env(&p, &common::GA, env)
    });
    assert_eq!(config_field(wrong).0, "api");
}
