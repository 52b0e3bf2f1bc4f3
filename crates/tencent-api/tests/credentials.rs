//! The credential chain with an injected environment and temporary files.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use listener_core::{Error, InlineCredentials, ProfileConfig, Secret};
use tencent_api::credentials::{
    from_env, from_sdk_file, from_tccli, load_chain, resolve, resolve_region, CredentialSource, LoadContext,
};

struct World {
    vars: HashMap<String, String>,
    home: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            vars: HashMap::new(),
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn set(mut self, name: &str, value: &str) -> World {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    fn file(self, relative: &str, text: &str) -> World {
        let path = self.home.path().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, text).expect("write");
        self
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    /// Run `f` with a context over this world.
    fn with<T>(&self, f: impl FnOnce(&LoadContext<'_>) -> T) -> T {
        let lookup = |name: &str| self.vars.get(name).cloned();
        let ctx = LoadContext {
            env: &lookup,
            home: Some(self.home.path().to_path_buf()),
        };
        f(&ctx)
    }
}

fn config_error(result: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    match result {
        Err(Error::Config { field, message }) => (field, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

const TCCLI_DEFAULT: &str = r#"{"secretId": "AKIDfile", "secretKey": "file-key-123", "token": "file-token"}"#;

#[test]
fn environment_gives_id_key_and_the_tccli_token() {
    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "AKIDenv")
        .set("TENCENTCLOUD_SECRET_KEY", "env-key")
        .set("TENCENTCLOUD_TOKEN", "tok-tccli")
        .set("TENCENTCLOUD_SECURITY_TOKEN", "tok-terraform")
        .set("TENCENTCLOUD_SESSION_TOKEN", "tok-alias");
    let c = w.with(from_env).expect("ok").expect("found");
    assert_eq!(c.secret_id, "AKIDenv");
    assert_eq!(c.secret_key.expose(), "env-key");
    assert_eq!(c.token.as_ref().map(Secret::expose), Some("tok-tccli"));
}

#[test]
fn terraform_token_name_and_our_alias_are_read_in_that_order() {
    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "AKIDenv")
        .set("TENCENTCLOUD_SECRET_KEY", "env-key")
        .set("TENCENTCLOUD_SECURITY_TOKEN", "tok-terraform")
        .set("TENCENTCLOUD_SESSION_TOKEN", "tok-alias");
    let c = w.with(from_env).expect("ok").expect("found");
    assert_eq!(c.token.as_ref().map(Secret::expose), Some("tok-terraform"));

    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "AKIDenv")
        .set("TENCENTCLOUD_SECRET_KEY", "env-key")
        .set("TENCENTCLOUD_SESSION_TOKEN", "tok-alias");
    let c = w.with(from_env).expect("ok").expect("found");
    assert_eq!(c.token.as_ref().map(Secret::expose), Some("tok-alias"));
}

#[test]
fn half_set_environment_names_the_missing_variable() {
    let w = World::new().set("TENCENTCLOUD_SECRET_ID", "AKIDenv");
    let (field, _) = config_error(w.with(from_env));
    assert_eq!(field, "TENCENTCLOUD_SECRET_KEY");

    let w = World::new().set("TENCENTCLOUD_SECRET_KEY", "only-the-key");
    let (field, message) = config_error(w.with(from_env));
    assert_eq!(field, "TENCENTCLOUD_SECRET_ID");
    assert!(!message.contains("only-the-key"));
}

#[test]
fn empty_variables_count_as_unset() {
    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "")
        .set("TENCENTCLOUD_SECRET_KEY", " ");
    assert!(w.with(from_env).expect("ok").is_none());
}

#[test]
fn inline_credentials_win_over_everything() {
    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "AKIDenv")
        .set("TENCENTCLOUD_SECRET_KEY", "env-key")
        .file(".tccli/default.credential", TCCLI_DEFAULT);
    let inline = InlineCredentials {
        key_id: "AKIDinline".into(),
        secret: Secret::new("inline-key"),
        token: Some(Secret::new("inline-token")),
    };
    let (c, source) = w.with(|ctx| load_chain(Some(&inline), ctx)).expect("found");
    assert_eq!(source, CredentialSource::Inline);
    assert_eq!(c.secret_id, "AKIDinline");
    assert_eq!(c.token.as_ref().map(Secret::expose), Some("inline-token"));
}

#[test]
fn environment_wins_over_tccli_files() {
    let w = World::new()
        .set("TENCENTCLOUD_SECRET_ID", "AKIDenv")
        .set("TENCENTCLOUD_SECRET_KEY", "env-key")
        .file(".tccli/default.credential", TCCLI_DEFAULT);
    let (c, source) = w.with(|ctx| load_chain(None, ctx)).expect("found");
    assert_eq!(source, CredentialSource::Environment);
    assert_eq!(c.secret_id, "AKIDenv");
    assert_eq!(c.token, None);
}

#[test]
fn tccli_default_profile_file_is_read_with_its_token() {
    let w = World::new().file(".tccli/default.credential", TCCLI_DEFAULT);
    let (c, source) = w.with(|ctx| load_chain(None, ctx)).expect("found");
    assert_eq!(
        source,
        CredentialSource::TccliFile(w.home().join(".tccli/default.credential"))
    );
    assert_eq!(c.secret_id, "AKIDfile");
    assert_eq!(c.secret_key.expose(), "file-key-123");
    assert_eq!(c.token.as_ref().map(Secret::expose), Some("file-token"));
}

#[test]
fn tccli_profile_is_chosen_by_tccli_profile_then_tencentcloud_profile() {
    let w = World::new()
        .file(".tccli/default.credential", TCCLI_DEFAULT)
        .file(
            ".tccli/prod.credential",
            r#"{"secretId":"AKIDprod","secretKey":"prod-key"}"#,
        )
        .file(
            ".tccli/stage.credential",
            r#"{"secretId":"AKIDstage","secretKey":"stage-key"}"#,
        )
        .set("TCCLI_PROFILE", "prod")
        .set("TENCENTCLOUD_PROFILE", "stage");
    let (c, _) = w.with(from_tccli).expect("ok").expect("found");
    assert_eq!(c.secret_id, "AKIDprod");

    let w = World::new()
        .file(
            ".tccli/stage.credential",
            r#"{"secretId":"AKIDstage","secretKey":"stage-key"}"#,
        )
        .set("TENCENTCLOUD_PROFILE", "stage");
    let (c, _) = w.with(from_tccli).expect("ok").expect("found");
    assert_eq!(c.secret_id, "AKIDstage");
    assert_eq!(c.token, None);
}

#[test]
fn a_named_tccli_profile_without_its_file_is_an_error() {
    let w = World::new()
        .file(".tccli/default.credential", TCCLI_DEFAULT)
        .set("TCCLI_PROFILE", "missing");
    let (field, message) = config_error(w.with(|ctx| load_chain(None, ctx)));
    assert_eq!(field, "TCCLI_PROFILE");
    assert!(message.contains("missing.credential"), "{message}");
}

#[test]
fn shared_credentials_dir_overrides_the_tccli_directory() {
    let elsewhere = tempfile::tempdir().expect("temp dir");
    fs::write(
        elsewhere.path().join("default.credential"),
        r#"{"secretId":"AKIDelsewhere","secretKey":"k"}"#,
    )
    .expect("write");
    let w = World::new().file(".tccli/default.credential", TCCLI_DEFAULT).set(
        "TENCENTCLOUD_SHARED_CREDENTIALS_DIR",
        elsewhere.path().to_str().expect("utf-8 path"),
    );
    let (c, path) = w.with(from_tccli).expect("ok").expect("found");
    assert_eq!(c.secret_id, "AKIDelsewhere");
    assert_eq!(path, elsewhere.path().join("default.credential"));
}

#[test]
fn broken_tccli_file_is_an_error_that_does_not_echo_its_content() {
    let w = World::new().file(
        ".tccli/default.credential",
        r#"{"secretId": "AKIDx", "secretKey": "leaky-key-42""#,
    );
    let (field, message) = config_error(w.with(|ctx| load_chain(None, ctx)));
    assert!(field.ends_with("default.credential"), "{field}");
    assert!(!message.contains("leaky-key-42"), "{message}");
}

#[test]
fn tccli_file_of_an_unsupported_type_is_an_error() {
    let w = World::new().file(".tccli/default.credential", r#"{"type": "sso"}"#);
    let (_, message) = config_error(w.with(|ctx| load_chain(None, ctx)));
    assert!(message.contains("sso"), "{message}");
}

#[test]
fn sdk_ini_file_is_the_last_source() {
    let w = World::new().file(
        ".tencentcloud/credentials",
        "[other]\nsecret_id = AKIDother\nsecret_key = other\n\n[default]\nsecret_id = AKIDini\nsecret_key = ini-key\n",
    );
    let (c, source) = w.with(|ctx| load_chain(None, ctx)).expect("found");
    assert_eq!(
        source,
        CredentialSource::SdkFile(w.home().join(".tencentcloud/credentials"))
    );
    assert_eq!(c.secret_id, "AKIDini");
    assert_eq!(c.secret_key.expose(), "ini-key");
}

#[test]
fn credentials_file_variable_overrides_the_ini_path_and_must_exist() {
    let other = tempfile::tempdir().expect("temp dir");
    let path = other.path().join("creds.ini");
    fs::write(&path, "[default]\nsecret_id=AKIDvar\nsecret_key=var-key\n").expect("write");
    let w = World::new().set("TENCENTCLOUD_CREDENTIALS_FILE", path.to_str().expect("utf-8 path"));
    let (c, found) = w.with(from_sdk_file).expect("ok").expect("found");
    assert_eq!(c.secret_id, "AKIDvar");
    assert_eq!(found, path);

    let w = World::new().set(
        "TENCENTCLOUD_CREDENTIALS_FILE",
        other.path().join("absent.ini").to_str().expect("utf-8 path"),
    );
    let (field, _) = config_error(w.with(from_sdk_file));
    assert_eq!(field, "TENCENTCLOUD_CREDENTIALS_FILE");
}

#[test]
fn ini_without_keys_in_default_is_an_error() {
    let w = World::new().file(".tencentcloud/credentials", "[default]\nsecret_id = AKIDonly\n");
    let (field, _) = config_error(w.with(|ctx| load_chain(None, ctx)));
    assert!(field.ends_with("credentials"), "{field}");
}

#[test]
fn nothing_found_names_every_place_looked() {
    let w = World::new();
    let (field, message) = config_error(w.with(|ctx| load_chain(None, ctx)));
    assert_eq!(field, "credentials");
    for expected in [
        "inline_credentials",
        "TENCENTCLOUD_SECRET_ID",
        "default.credential",
        ".tencentcloud",
    ] {
        assert!(message.contains(expected), "{expected} missing from {message}");
    }
}

#[test]
fn without_a_home_directory_files_are_skipped() {
    let lookup = |_: &str| None;
    let ctx = LoadContext {
        env: &lookup,
        home: None,
    };
    assert!(from_tccli(&ctx).expect("ok").is_none());
    assert!(from_sdk_file(&ctx).expect("ok").is_none());
    assert_eq!(resolve_region(None, &ctx).expect("ok"), None);
}

#[test]
fn region_comes_from_profile_then_environment_then_tccli_configure() {
    let configure = r#"{"_sys_param": {"region": "ap-singapore", "output": "json"}, "gaap": {"endpoint": "gaap.tencentcloudapi.com", "version": "2018-05-29"}}"#;
    let w = World::new()
        .file(".tccli/default.configure", configure)
        .set("TENCENTCLOUD_REGION", "ap-beijing");
    assert_eq!(
        w.with(|ctx| resolve_region(Some("ap-shanghai"), ctx))
            .expect("ok")
            .as_deref(),
        Some("ap-shanghai")
    );
    assert_eq!(
        w.with(|ctx| resolve_region(None, ctx)).expect("ok").as_deref(),
        Some("ap-beijing")
    );
    let w = World::new().file(".tccli/default.configure", configure);
    assert_eq!(
        w.with(|ctx| resolve_region(None, ctx)).expect("ok").as_deref(),
        Some("ap-singapore")
    );
}

#[test]
fn resolve_combines_credentials_and_region_for_a_profile() {
    let w = World::new()
        .file(
            ".tccli/prod.credential",
            r#"{"secretId":"AKIDprod","secretKey":"prod-key"}"#,
        )
        .file(".tccli/prod.configure", r#"{"_sys_param": {"region": "ap-hongkong"}}"#)
        .set("TCCLI_PROFILE", "prod");
    let profile = ProfileConfig::new("tencent-clb", "lb-1");
    let resolved = w.with(|ctx| resolve(&profile, ctx)).expect("resolved");
    assert_eq!(resolved.credentials.secret_id, "AKIDprod");
    assert_eq!(resolved.region.as_deref(), Some("ap-hongkong"));
    assert!(matches!(resolved.source, CredentialSource::TccliFile(_)));
    // Debug of the result shows no key.
    assert!(!format!("{resolved:?}").contains("prod-key"));
}
