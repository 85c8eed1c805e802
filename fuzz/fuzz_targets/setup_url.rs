//! The page's URL setup parser on arbitrary text, with the round trip
//! `from_query(to_query(s)) == s` (no warnings), and the hub repository / endpoint parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntk_lens_web::page::setup::Setup;
use ntk_lens_web::protocol::hub::{parse_endpoint, HubModel};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let (setup, _warnings) = Setup::from_query(&text);
    let query = setup.to_query();
    let (again, warnings) = Setup::from_query(&query);
    assert!(
        warnings.is_empty(),
        "to_query gave a query that warns: {query:?}: {warnings:?}"
    );
    assert_eq!(
        again, setup,
        "round trip through {query:?} changed the setup"
    );

    let _ = HubModel::parse(&text);
    let _ = parse_endpoint(&text);
});
