//! Every catalog operation through `sfmc call` against the emulator: its success and its main
//! failure (exit 3 with Marketing Cloud's message and errorcode, or exit 2 for input the client
//! refuses), a token without the operation's scope (derived from the catalog, for every
//! operation), and the issue's done-when lines.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use serde_json::{Value, json};
use sfmc_client::catalog;
use support::{Env, code, stderr, stdout};

/// `sfmc call OP PARAMS [EXTRA…]`: exit code, stdout JSON (`null` if none), stderr.
async fn call(env: &Env, op: &str, params: Value, extra: &[&str]) -> (i32, Value, String) {
    let text = params.to_string();
    let mut args = vec!["call", op, text.as_str()];
    args.extend_from_slice(extra);
    let output = env.run(&args).await;
    let json = serde_json::from_str(&stdout(&output)).unwrap_or(Value::Null);
    (code(&output), json, stderr(&output))
}

async fn ok(env: &Env, op: &str, params: Value) -> Value {
    let (code, json, err) = call(env, op, params, &[]).await;
    assert_eq!(code, 0, "{op}: {err}");
    json
}

/// Exit 3 with the HTTP status and errorcode named.
async fn rejected(env: &Env, op: &str, params: Value, extra: &[&str], status: u16, errorcode: i64) {
    let (code, _, err) = call(env, op, params, extra).await;
    assert_eq!(code, 3, "{op}: {err}");
    assert!(err.contains(&format!("HTTP {status}")), "{op}: {err}");
    assert!(
        err.contains(&format!("errorcode {errorcode}")),
        "{op}: {err}"
    );
}

/// The fewest parameters `op` accepts, so the request reaches Marketing Cloud.
fn minimal(op: &str) -> Value {
    match op {
        "getAssets" | "getCategories" | "getCampaigns" | "getJourneys" => json!({}),
        "createAsset" => json!({"name": "a", "assetType.id": 208}),
        "updateAsset" | "deleteAsset" => json!({"assetId": 1}),
        "createCategory" => json!({"name": "f", "parentId": 0}),
        "createCampaign" => json!({"name": "x"}),
        "updateCampaign" | "deleteCampaign" => json!({"campaignId": "1"}),
        "createContact" | "updateContact" => contact("k"),
        "deleteContact" => json!({"values": ["k"]}),
        "getContactDeleteRequests" => {
            json!({"startDateUtc": "2000-01-01", "endDateUtc": "2999-01-01"})
        }
        "createJourney" => json!({"key": "k", "name": "n"}),
        "createEmailDefinition" => {
            json!({"definitionKey": "k", "name": "n", "content.customerKey": "e"})
        }
        "createSmsDefinition" => json!({"definitionKey": "k", "name": "n", "content.message": "m"}),
        "sendEmailMessage" => {
            json!({"definitionKey": "k", "recipients": [{"contactKey": "c", "to": "a@example.com"}]})
        }
        "sendSmsMessage" => {
            json!({"definitionKey": "k", "recipients": [{"contactKey": "c", "to": "+15550100"}]})
        }
        "insertDataExtensionRowSet" => json!({"externalKey": "k", "payload": []}),
        other => panic!("no minimal parameters for {other}: add them"),
    }
}

#[tokio::test]
async fn every_operation_needs_its_scope() {
    let env = Env::new("op-scopes").await;
    for op in catalog::operations() {
        let other = if op.scope == "email_read" {
            "campaign_read"
        } else {
            "email_read"
        };
        rejected(
            &env,
            op.name,
            minimal(op.name),
            &["--scope", other, "--no-cache"],
            403,
            20002,
        )
        .await;
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn campaigns_round_trip() {
    let env = Env::new("op-campaigns").await;
    let created = ok(&env, "createCampaign", json!({"name": "Summer Sale", "description": "Sun", "campaignCode": "SUMMER24", "color": "ff0000", "favorite": true})).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Summer Sale");
    let listed = ok(&env, "getCampaigns", json!({})).await;
    assert!(
        names(&listed["items"]).contains(&"Summer Sale".to_owned()),
        "{listed}"
    );
    let renamed = ok(
        &env,
        "updateCampaign",
        json!({"campaignId": id, "name": "Winter Sale"}),
    )
    .await;
    assert_eq!(renamed["name"], "Winter Sale");
    let all = ok(&env, "getCampaigns", json!({"pageSize": 1})).await;
    assert_eq!(names(&all["items"]), ["Winter Sale"]);
    ok(&env, "deleteCampaign", json!({"campaignId": id})).await;
    assert_eq!(ok(&env, "getCampaigns", json!({})).await["count"], 0);
    // Main failures.
    rejected(
        &env,
        "deleteCampaign",
        json!({"campaignId": id}),
        &[],
        404,
        404,
    )
    .await;
    rejected(
        &env,
        "updateCampaign",
        json!({"campaignId": id, "name": "x"}),
        &[],
        404,
        404,
    )
    .await;
    let (code, out, err) = call(
        &env,
        "createCampaign",
        json!({"description": "no name"}),
        &[],
    )
    .await;
    assert_eq!((code, out), (2, Value::Null), "{err}");
    assert!(err.contains("missing required parameter \"name\""), "{err}");
}

#[tokio::test]
async fn campaigns_all_pages() {
    let env = Env::new("op-campaign-pages").await;
    for i in 0..5 {
        ok(&env, "createCampaign", json!({"name": format!("C{i}")})).await;
    }
    let (code, all, err) = call(&env, "getCampaigns", json!({"pageSize": 2}), &["--all"]).await;
    assert_eq!(code, 0, "{err}");
    let mut got = names(&all);
    got.sort();
    assert_eq!(got, ["C0", "C1", "C2", "C3", "C4"]);
}

#[tokio::test]
async fn assets_round_trip_with_a_filter() {
    let env = Env::new("op-assets").await;
    let asset = json!({"name": "Welcome", "assetType.id": 208, "assetType.name": "htmlemail", "content": "<p>hi</p>", "customerKey": "welcome-1"});
    let created = ok(&env, "createAsset", asset.clone()).await;
    let id = created["id"].as_i64().unwrap();
    ok(
        &env,
        "createAsset",
        json!({"name": "Other", "assetType.id": 208}),
    )
    .await;
    let filtered = ok(&env, "getAssets", json!({"filter": "name eq 'Welcome'"})).await;
    assert_eq!(names(&filtered["items"]), ["Welcome"]);
    let updated = ok(
        &env,
        "updateAsset",
        json!({"assetId": id, "name": "Welcome v2"}),
    )
    .await;
    assert_eq!(updated["name"], "Welcome v2");
    assert_eq!(ok(&env, "deleteAsset", json!({"assetId": id})).await, "OK");
    assert_eq!(
        ok(&env, "getAssets", json!({"filter": "name eq 'Welcome v2'"})).await["count"],
        0
    );
    rejected(&env, "deleteAsset", json!({"assetId": id}), &[], 404, 404).await;
    rejected(
        &env,
        "updateAsset",
        json!({"assetId": id, "name": "x"}),
        &[],
        404,
        404,
    )
    .await;
    ok(&env, "createAsset", asset.clone()).await;
    rejected(&env, "createAsset", asset, &[], 400, 10000).await;
}

#[tokio::test]
async fn categories() {
    let env = Env::new("op-categories").await;
    let root = ok(
        &env,
        "createCategory",
        json!({"name": "Root", "parentId": 0}),
    )
    .await;
    let root_id = root["Id"].as_i64().or_else(|| root["id"].as_i64()).unwrap();
    ok(
        &env,
        "createCategory",
        json!({"name": "Child", "parentId": root_id}),
    )
    .await;
    let children = ok(
        &env,
        "getCategories",
        json!({"filter": format!("parentId eq {root_id}")}),
    )
    .await;
    assert_eq!(children["items"].as_array().unwrap().len(), 1, "{children}");
    rejected(
        &env,
        "createCategory",
        json!({"name": "x", "parentId": 424242}),
        &[],
        400,
        10000,
    )
    .await;
}

fn contact(key: &str) -> Value {
    json!({"contactKey": key, "attributeSets": [{"name": "Email Addresses", "items": [{"values": [{"name": "Email Address", "value": "a@example.com"}]}]}]})
}

#[tokio::test]
async fn contacts_and_delete_requests() {
    let env = Env::new("op-contacts").await;
    let created = ok(&env, "createContact", contact("k1")).await;
    assert_eq!(created["operationStatus"], "OK");
    ok(&env, "updateContact", contact("k1")).await;
    let deleted = ok(&env, "deleteContact", json!({"values": ["k1"]})).await;
    assert_eq!(deleted["operationInitiated"], true);
    let requests = ok(
        &env,
        "getContactDeleteRequests",
        json!({"startDateUtc": "2000-01-01", "endDateUtc": "2999-01-01"}),
    )
    .await;
    assert_eq!(
        requests["operations"].as_array().unwrap().len(),
        1,
        "{requests}"
    );
    ok(&env, "createContact", contact("dup")).await;
    rejected(&env, "createContact", contact("dup"), &[], 400, 10000).await;
    rejected(
        &env,
        "updateContact",
        contact("never-created"),
        &[],
        404,
        404,
    )
    .await;
    rejected(
        &env,
        "deleteContact",
        json!({"values": []}),
        &[],
        400,
        10002,
    )
    .await;
    rejected(
        &env,
        "getContactDeleteRequests",
        json!({"startDateUtc": "yesterday", "endDateUtc": "2000-01-01"}),
        &[],
        400,
        10000,
    )
    .await;
}

#[tokio::test]
async fn journeys() {
    let env = Env::new("op-journeys").await;
    let created = ok(
        &env,
        "createJourney",
        json!({"key": "welcome", "name": "Welcome", "triggers": [], "activities": [], "goals": []}),
    )
    .await;
    assert_eq!(created["status"], "Draft");
    let listed = ok(&env, "getJourneys", json!({})).await;
    assert_eq!(names(&listed["items"]), ["Welcome"]);
}

#[tokio::test]
async fn transactional_definitions_and_sends() {
    let env = Env::new("op-messaging").await;
    let email = json!({"definitionKey": "order", "name": "Order", "content.customerKey": "email-1", "subscriptions.list": "All Subscribers"});
    let created = ok(&env, "createEmailDefinition", email.clone()).await;
    assert_eq!(created["definitionKey"], "order");
    rejected(&env, "createEmailDefinition", email, &[], 409, 30004).await;
    let sms = json!({"definitionKey": "otp", "name": "OTP", "content.message": "Your code", "subscriptions.shortCode": "12345", "subscriptions.countryCode": "US"});
    ok(&env, "createSmsDefinition", sms.clone()).await;
    rejected(&env, "createSmsDefinition", sms, &[], 409, 30004).await;

    let recipients = json!([{"contactKey": "c1", "to": "a@example.com"}, {"contactKey": "c2", "to": "b@example.com", "messageKey": "mine"}]);
    let sent = ok(
        &env,
        "sendEmailMessage",
        json!({"definitionKey": "order", "recipients": recipients}),
    )
    .await;
    let keys: Vec<_> = sent["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageKey"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 2, "{sent}");
    assert_eq!(keys[1], "mine");
    let sms_sent = ok(
        &env,
        "sendSmsMessage",
        json!({"definitionKey": "otp", "recipients": [{"contactKey": "c1", "to": "+15550100"}]}),
    )
    .await;
    assert_eq!(
        sms_sent["responses"].as_array().unwrap().len(),
        1,
        "{sms_sent}"
    );
    rejected(&env, "sendEmailMessage", json!({"definitionKey": "missing", "recipients": [{"contactKey": "c", "to": "a@example.com"}]}), &[], 400, 30003).await;
    rejected(
        &env,
        "sendSmsMessage",
        json!({"definitionKey": "missing", "recipients": [{"contactKey": "c", "to": "+15550100"}]}),
        &[],
        400,
        30003,
    )
    .await;
}

#[tokio::test]
async fn data_extension_rowsets() {
    let env = Env::new("op-rows").await;
    let define = json!({"key": "People", "fields": ["Id", "Email"], "primaryKeys": ["Id"]});
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/dataextensions", env.emulator.url()))
        .json(&define)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let rows = json!([{"keys": {"Id": "1"}, "values": {"Email": "a@example.com"}}, {"keys": {"Id": "2"}, "values": {"Email": "b@example.com"}}]);
    ok(
        &env,
        "insertDataExtensionRowSet",
        json!({"externalKey": "People", "payload": rows}),
    )
    .await;
    let described: Value = reqwest::get(format!(
        "{}/_emulator/dataextensions/People",
        env.emulator.url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(described["rows"], 2);
    rejected(
        &env,
        "insertDataExtensionRowSet",
        json!({"externalKey": "Nope", "payload": rows}),
        &[],
        400,
        10000,
    )
    .await;
    // Rows read back with `links.next` paging through `sfmc api --paginate`.
    let output = env
        .run(&[
            "api",
            "GET",
            "/data/v1/customobjectdata/key/People/rowset",
            "--query",
            "$pageSize=1",
            "--paginate",
        ])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let read: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(read.as_array().unwrap().len(), 2, "{read}");
}

#[tokio::test]
async fn api_lists_campaigns_and_creates_one() {
    let env = Env::new("op-api").await;
    let output = env
        .run(&[
            "api",
            "POST",
            "/hub/v1/campaigns",
            "--data",
            r#"{"name":"Via api"}"#,
        ])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = env.run(&["api", "GET", "/hub/v1/campaigns"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(names(&listed["items"]), ["Via api"]);
    let output = env
        .run(&["api", "GET", "/hub/v1/campaigns", "--paginate"])
        .await;
    let items: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(names(&items), ["Via api"]);
}

#[tokio::test]
async fn business_units_see_their_own_data() {
    let env = Env::new("op-bu").await;
    ok(&env, "createCampaign", json!({"name": "Parent only"})).await;
    let (code, child, err) = call(
        &env,
        "getCampaigns",
        json!({}),
        &["--account-id", sfmc_emulator::DEMO_CHILD_ACCOUNT_ID],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(child["count"], 0, "{child}");
}
