//! The pusher's payload: its `Debug` shows neither the body nor the query, and distinct ids
//! keep the order they were first seen in.
use super::*;

#[test]
fn debug_output_shows_neither_the_body_nor_the_query() {
    let batch = Batch {
        kind: DeliveryKind::Change,
        url: "https://r.test/n?code=function-key".to_owned(),
        body: Bytes::from_static(b"{\"clientState\":\"client-secret\"}"),
        subscription_ids: vec!["s".to_owned()],
        interaction_ids: Vec::new(),
    };
    let text = format!("{batch:?}");
    assert!(text.contains("https://r.test/n"), "{text}");
    assert!(!text.contains("function-key"), "{text}");
    assert!(!text.contains("client-secret"), "{text}");
}

#[test]
fn distinct_keeps_first_seen_order() {
    assert_eq!(distinct(["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
    assert_eq!(
        distinct(vec!["x".to_owned(), "x".to_owned()]),
        ["x".to_owned()]
    );
}
