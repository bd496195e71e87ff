//! `docs/operations.md` must match the catalog. To regenerate it:
//! `SFMC_BLESS=1 cargo test -p sfmc-client --test operations_doc`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[test]
fn operations_md_matches_the_catalog() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md");
    let generated = sfmc_client::catalog::markdown();
    if std::env::var_os("SFMC_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/operations.md does not match the catalog; regenerate it with\n    SFMC_BLESS=1 cargo test -p sfmc-client --test operations_doc"
    );
}

#[test]
fn every_operation_is_documented() {
    let generated = sfmc_client::catalog::markdown();
    for op in sfmc_client::catalog::operations() {
        assert!(
            generated.contains(&format!("### `{}`", op.name)),
            "{}",
            op.name
        );
    }
}
