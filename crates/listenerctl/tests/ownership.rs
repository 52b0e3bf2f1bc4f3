//! Destructive commands touch only what is theirs (issue 11): `delete` of
//! an ID that is not on the profile's instance fails with exit 1 and
//! changes nothing, and `apply --all-profiles --prune` never deletes a
//! listener the file names, even on a profile that skips it.

mod common;

use common::{profile, Emu, Scratch};

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Two instances of one API, `web` and `plat`, each with a profile, and
/// one HTTP listener on port 80 in the file.
struct TwoInstances {
    api: &'static str,
    web: &'static str,
    plat: &'static str,
    /// The profile's alias lines (certificates and targets).
    aliases_web: &'static str,
    aliases_plat: &'static str,
}

const ALB: TwoInstances = TwoInstances {
    api: "alibaba-alb",
    web: "alb-web0000001",
    plat: "alb-plat000001",
    aliases_web: "targets = { web-servers = \"sgp-web0000001\" }",
    aliases_plat: "targets = { web-servers = \"sgp-plat000001\" }",
};
const CLB: TwoInstances = TwoInstances {
    api: "tencent-clb",
    web: "lb-web00001",
    plat: "lb-plat0001",
    aliases_web: "targets = { web-servers = \"lbtg-web\" }",
    aliases_plat: "targets = { web-servers = \"lbtg-plat\" }",
};
const GAAP: TwoInstances = TwoInstances {
    api: "tencent-gaap",
    web: "link-web0001",
    plat: "link-plat001",
    aliases_web: "targets = { web-servers = \"rs-web\" }",
    aliases_plat: "targets = { web-servers = \"rs-plat\" }",
};
const GA: TwoInstances = TwoInstances {
    api: "alibaba-ga",
    web: "ga-web0000001",
    plat: "ga-plat000001",
    aliases_web: "targets = { web-servers = \"epg-web\" }",
    aliases_plat: "targets = { web-servers = \"epg-plat\" }",
};

const HTTP_80: &str =
    "\n[[listeners]]\nname = \"web-http\"\nprotocol = \"http\"\nports = 80\nforwarding = { default_target = \"web-servers\" }\n";

impl TwoInstances {
    fn emulator(&self) -> Emu {
        let groups: &[&str] = if self.api == "alibaba-alb" {
            &["sgp-web0000001", "sgp-plat000001"]
        } else {
            &[]
        };
        // ALB needs the server group on the instance that uses it.
        let (web_groups, plat_groups): (&[&str], &[&str]) = if groups.is_empty() {
            (&[], &[])
        } else {
            (&groups[..1], &groups[1..])
        };
        Emu::start(&[(self.api, self.web, web_groups), (self.api, self.plat, plat_groups)])
    }

    fn file(&self, emu: &Emu) -> String {
        format!(
            "{}{}{HTTP_80}",
            profile("web", self.api, self.web, &emu.url(), self.aliases_web),
            profile("plat", self.api, self.plat, &emu.url(), self.aliases_plat),
        )
    }
}

/// The ID of the one listener `profile` lists.
fn only_listener_id(s: &Scratch, file: &std::path::Path, profile: &str) -> String {
    let list = s.run(&["list", "-f", path(file), "-p", profile, "-o", "json"]);
    list.expect_code(0);
    let all = list.json();
    let all = all.as_array().expect("a list");
    assert_eq!(all.len(), 1, "{all:?}");
    all[0]["id"].as_str().expect("id").to_string()
}

/// Both instances hold a listener on port 80; deleting `plat`'s ID
/// through the `web` profile fails and leaves both listeners in place.
fn delete_of_another_instances_id_fails(t: &TwoInstances) {
    let emu = t.emulator();
    let s = Scratch::new();
    let file = s.write("l.toml", &t.file(&emu));
    for p in ["web", "plat"] {
        s.run(&["apply", "-f", path(&file), "-p", p]).expect_code(0);
    }
    let plat_id = only_listener_id(&s, &file, "plat");
    let web_id = only_listener_id(&s, &file, "web");

    let run = s.run(&["delete", &plat_id, "-f", path(&file), "-p", "web", "-o", "json"]);
    run.expect_code(1);
    let err = run.json_error();
    let kind = err["error"]["kind"].as_str().expect("kind");
    assert!(kind == "not_found" || kind == "not_owned", "{}: {err}", t.api);
    let message = err["error"]["problems"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(t.web),
        "{}: the message names the instance: {message}",
        t.api
    );

    let text = s.run(&["delete", &plat_id, "-f", path(&file), "-p", "web"]);
    text.expect_code(1);
    assert!(!text.stdout.contains("deleted"), "{}: {}", t.api, text.stdout);

    assert_eq!(
        emu.count(t.api, t.plat),
        1,
        "{}: the other instance's listener is still there",
        t.api
    );
    assert_eq!(emu.count(t.api, t.web), 1, "{}", t.api);
    assert_eq!(only_listener_id(&s, &file, "plat"), plat_id);
    assert_eq!(only_listener_id(&s, &file, "web"), web_id);
}

#[test]
fn alb_delete_refuses_a_listener_of_another_instance() {
    delete_of_another_instances_id_fails(&ALB);
}

#[test]
fn clb_delete_refuses_a_listener_of_another_instance() {
    delete_of_another_instances_id_fails(&CLB);
}

#[test]
fn gaap_delete_refuses_a_listener_of_another_instance() {
    delete_of_another_instances_id_fails(&GAAP);
}

#[test]
fn ga_delete_refuses_a_listener_of_another_instance() {
    delete_of_another_instances_id_fails(&GA);
}

/// `delete typo-id-123` on the `web` profile of `t`'s API: exit 1, kind
/// `not_found`, the message names the instance, nothing deleted.
fn delete_of_an_unknown_id_fails(t: &TwoInstances) {
    let emu = t.emulator();
    let s = Scratch::new();
    let file = s.write("l.toml", &t.file(&emu));
    s.run(&["apply", "-f", path(&file), "-p", "web"]).expect_code(0);

    let run = s.run(&["delete", "typo-id-123", "-f", path(&file), "-p", "web", "-o", "json"]);
    run.expect_code(1);
    let err = run.json_error();
    assert_eq!(err["error"]["kind"], "not_found", "{}: {err}", t.api);
    let message = err["error"]["problems"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(t.web), "{}: {message}", t.api);
    assert!(run.stdout.is_empty(), "{}: no success document: {}", t.api, run.stdout);
    assert_eq!(emu.count(t.api, t.web), 1, "{}", t.api);
}

#[test]
fn alb_delete_of_an_unknown_id_exits_1() {
    delete_of_an_unknown_id_fails(&ALB);
}

#[test]
fn clb_delete_of_an_unknown_id_exits_1() {
    delete_of_an_unknown_id_fails(&CLB);
}

#[test]
fn gaap_delete_of_an_unknown_id_exits_1() {
    delete_of_an_unknown_id_fails(&GAAP);
}

#[test]
fn ga_delete_of_an_unknown_id_exits_1() {
    delete_of_an_unknown_id_fails(&GA);
}

/// CLB cannot take `timeouts.request_secs`; ALB can. Once the file sets
/// it, `--all-profiles` skips the listener on CLB, and `--prune` must
/// still keep the live CLB listener on 443: the file names it.
#[test]
fn prune_keeps_a_listener_the_file_names_but_a_profile_skips() {
    let emu = Emu::start(&[
        ("tencent-clb", "lb-shop0001", &[]),
        ("alibaba-alb", "alb-shop000001", &["sgp-shop000001"]),
    ]);
    let s = Scratch::new();
    let profiles = format!(
        "{}{}",
        profile(
            "clb",
            "tencent-clb",
            "lb-shop0001",
            &emu.url(),
            "certificates = { shop-cert = \"cert-clb-shop\" }\ntargets = { shop-servers = \"lbtg-shop\" }"
        ),
        profile(
            "alb",
            "alibaba-alb",
            "alb-shop000001",
            &emu.url(),
            "certificates = { shop-cert = \"103705\" }\ntargets = { shop-servers = \"sgp-shop000001\" }"
        ),
    );
    let listener = "\n[[listeners]]\nname = \"shop-https\"\nprotocol = \"https\"\nports = 443\n\
                    forwarding = { default_target = \"shop-servers\" }\ntls = { certificates = [\"shop-cert\"] }\n";
    let file = s.write("shop.toml", &format!("{profiles}{listener}"));
    s.run(&["apply", "-f", path(&file), "--all-profiles"]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", "lb-shop0001"), 1);
    let clb_id = only_listener_id(&s, &file, "clb");

    s.write(
        "shop.toml",
        &format!("{profiles}{listener}timeouts = {{ request_secs = 30 }}\n"),
    );
    let plan = s.run(&["plan", "-f", path(&file), "--all-profiles", "--prune", "-o", "json"]);
    let doc = plan.json();
    let clb = doc["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .find(|p| p["profile"] == "clb")
        .expect("clb plan")
        .clone();
    assert_eq!(clb["skipped"][0]["name"], "shop-https", "{clb}");
    assert_eq!(clb["summary"]["delete"], 0, "{clb}");
    assert!(
        clb["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .all(|a| a["action"] != "delete"),
        "{clb}"
    );

    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles", "--prune"]);
    apply.expect_code(0);
    assert!(!apply.stdout.contains("- delete"), "{}", apply.stdout);
    assert_eq!(
        emu.count("tencent-clb", "lb-shop0001"),
        1,
        "the skipped listener survives: {}",
        apply.stdout
    );
    assert_eq!(only_listener_id(&s, &file, "clb"), clb_id);
}
