//! `sfmc call` and `sfmc api` as processes: argument and input errors exit 2 naming the
//! problem without any connection; `--list`; and requests against the embedded emulator
//! (`--emulated`) and an in-process one.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use support::{Env, bare, code, json, stderr};

async fn run_bare(args: &[&str]) -> std::process::Output {
    bare(args).output().await.unwrap()
}

#[tokio::test]
async fn input_errors_exit_2_naming_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&["call", "getCampaign"], "did you mean \"getCampaigns\""),
        (
            &["call", "createCampaign", r#"{"description":"no name"}"#],
            "missing required parameter \"name\"",
        ),
        (
            &["call", "createCampaign", r#"{"name":"x","favourite":true}"#],
            "did you mean \"favorite\"",
        ),
        (
            &["call", "createCampaign", r#"{"name":"x","favorite":"yes"}"#],
            "\"favorite\" must be boolean",
        ),
        (&["call", "createCampaign", r#"{"name":"#], "invalid JSON"),
        (
            &["call", "createCampaign", "@/nonexistent/params.json"],
            "cannot open /nonexistent/params.json",
        ),
        (
            &["call", "updateCampaign", r#"{"name":"x"}"#],
            "\"campaignId\"",
        ),
        (&["call", "createCampaign", "[1]"], "must be a JSON object"),
        (&["api", "GET", "https://evil.example/x"], "not relative"),
        (&["api", "GET", "/hub/../v2/token"], "'..'"),
        (&["api", "FETCH", "/hub/v1/campaigns"], "not one of GET"),
        (
            &["api", "GET", "/hub/v1/campaigns", "--query", "novalue"],
            "NAME=VALUE",
        ),
        (
            &["api", "GET", "/hub/v1/campaigns", "--query", "=v"],
            "the name is empty",
        ),
        (
            &["api", "POST", "/hub/v1/campaigns", "--data", "{oops"],
            "--data: invalid JSON",
        ),
    ];
    for (args, expected) in cases {
        let output = run_bare(args).await;
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn list_names_all_21_operations_and_json_gives_schemas() {
    let output = run_bare(&["call", "--list"]).await;
    assert_eq!(code(&output), 0);
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 21);
    assert!(text.contains("createCampaign") && text.contains("/hub/v1/campaigns"));
    let output = run_bare(&["call", "--list", "--json"]).await;
    let list = json(&output);
    assert_eq!(list.as_array().unwrap().len(), 21);
    let create = list
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["name"] == "createCampaign")
        .unwrap();
    // `name` may come as a parameter or inside `payload`.
    assert_eq!(create["inputSchema"]["required"], serde_json::json!([]));
    assert_eq!(
        create["inputSchema"]["allOf"],
        serde_json::json!([{"anyOf": [
            {"required": ["name"]},
            {"required": ["payload"], "properties": {"payload": {"required": ["name"]}}},
        ]}])
    );
    assert_eq!(create["method"], "POST");
}

#[tokio::test]
async fn api_reaches_the_embedded_emulator() {
    let output = run_bare(&["api", "GET", "/platform/v1/tokenContext", "--emulated"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let context = json(&output);
    assert!(context["organization"]["id"].is_number(), "{context}");
}

#[tokio::test]
async fn api_uses_the_configured_package_and_business_unit() {
    let env = Env::new("api-bu").await;
    let output = env
        .run(&[
            "api",
            "get",
            "platform/v1/tokenContext",
            "--account-id",
            sfmc_emulator::DEMO_CHILD_ACCOUNT_ID,
        ])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let context = json(&output);
    assert_eq!(
        context["organization"]["id"].to_string(),
        sfmc_emulator::DEMO_CHILD_ACCOUNT_ID
    );
}

#[tokio::test]
async fn a_4xx_exits_3_with_message_and_errorcode() {
    let env = Env::new("api-404").await;
    let output = env.run(&["api", "GET", "/no/such/route"]).await;
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("HTTP 404")
            && err.contains("errorcode 404")
            && err.contains("Resource not found"),
        "{err}"
    );
}

#[tokio::test]
async fn unavailable_after_retries_exits_4() {
    let env = Env::new("api-503").await;
    env.emulator.add_fault(sfmc_emulator::Fault {
        target: sfmc_emulator::FaultTarget::Api,
        status: Some(503),
        count: 100,
        delay_ms: 0,
        ..sfmc_emulator::Fault::default()
    });
    // POST is not retried on 503, so this ends at once.
    let output = env
        .run(&[
            "api",
            "POST",
            "/hub/v1/campaigns",
            "--data",
            r#"{"name":"x"}"#,
        ])
        .await;
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(stderr(&output).contains("HTTP 503"), "{}", stderr(&output));
}
