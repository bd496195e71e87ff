//! Operation parameters from users (`sfmc call`, the gateway, MCP tools): never a panic; a
//! request that is built has every path placeholder filled and a path the client sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_client::catalog;
use sfmc_client::check_path;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the operation, the rest is its parameters as JSON.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(params) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let operations = catalog::operations();
    let op = operations[usize::from(pick) % operations.len()];
    if let Ok(request) = op.build_request(&params) {
        assert!(
            !request.path.contains(['{', '}']),
            "{}: placeholder left in {:?}",
            op.name,
            request.path
        );
        if let Err(error) = check_path(&request.path) {
            panic!("{}: built path {:?} refused: {error}", op.name, request.path);
        }
        let api = request.into_api_request();
        assert_eq!(api.method, op.method.to_method());
        assert_eq!(api.idempotent, op.idempotent);
    }
});
