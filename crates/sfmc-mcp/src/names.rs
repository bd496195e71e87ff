//! Tool names: `sfmc_` + the catalog operation's name in snake_case (`getCampaigns` →
//! `sfmc_get_campaigns`), and the names of the tools that are not catalog operations.

/// The prefix of every tool.
pub const PREFIX: &str = "sfmc_";

/// Any REST path under the instance URL.
pub const REST_REQUEST: &str = "sfmc_rest_request";

/// One page of a data extension's rows.
pub const QUERY_DATA_EXTENSION_ROWS: &str = "sfmc_query_data_extension_rows";

/// Upserting a bounded number of rows into a data extension.
pub const UPSERT_DATA_EXTENSION_ROWS: &str = "sfmc_upsert_data_extension_rows";

/// The argument naming the connection (when several are configured).
pub const CONNECTION_ARG: &str = "connection";

/// The argument naming the business unit (MID).
pub const ACCOUNT_ID_ARG: &str = "account_id";

/// `sfmc_` + `name` in snake_case: an upper-case letter starts a new word, and a run of
/// capitals stays one word (`getHTTPThing` → `sfmc_get_http_thing`).
pub fn tool_name(operation: &str) -> String {
    let chars: Vec<char> = operation.chars().collect();
    let mut name = String::with_capacity(PREFIX.len() + operation.len() + 4);
    name.push_str(PREFIX);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower = i > 0 && !chars[i - 1].is_ascii_uppercase();
            let ends_acronym = i > 0
                && chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_lower || ends_acronym {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_become_snake_case_with_the_prefix() {
        assert_eq!(tool_name("getCampaigns"), "sfmc_get_campaigns");
        assert_eq!(tool_name("createCampaign"), "sfmc_create_campaign");
        assert_eq!(
            tool_name("insertDataExtensionRowSet"),
            "sfmc_insert_data_extension_row_set"
        );
        assert_eq!(tool_name("getHTTPThing"), "sfmc_get_http_thing");
        assert_eq!(tool_name("sendSmsMessage"), "sfmc_send_sms_message");
    }

    #[test]
    fn every_catalog_name_is_distinct_and_a_valid_tool_name() {
        let names: Vec<String> = sfmc_client::catalog::operations()
            .iter()
            .map(|op| tool_name(op.name))
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for name in &names {
            assert!(name.len() <= 64, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_ne!(name, REST_REQUEST);
            assert_ne!(name, QUERY_DATA_EXTENSION_ROWS);
            assert_ne!(name, UPSERT_DATA_EXTENSION_ROWS);
        }
    }
}
