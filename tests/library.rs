//! Drives the merge through the library API, with sources the command line cannot make.

use stream_merge::{Error, Stream, merge};

fn stream(name: &str, values: impl Iterator<Item = i64> + Send + 'static) -> Stream {
    Stream {
        name: name.to_string(),
        values: Box::new(values),
    }
}

#[test]
fn a_failing_source_is_reported_by_name_and_the_root_ends() {
    let failing = (0..).map(|i| if i < 3000 { i } else { panic!("sensor lost") });
    let endless = std::iter::repeat(100);
    let mut out = Vec::new();
    let result = merge(
        vec![stream("x", failing), stream("y", endless)],
        true,
        &mut out,
    );
    assert!(
        matches!(result, Err(Error::Failed(ref name)) if name == "x"),
        "{result:?}"
    );
    // Whatever was merged before the failure is printed, and is right.
    let merges: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(merges.len() <= 3000);
    for (k, line) in merges.iter().enumerate() {
        assert_eq!(*line, format!("merge {}", k + 100));
    }
}

#[test]
fn streams_of_different_lengths_merge_as_far_as_the_shortest() {
    let mut out = Vec::new();
    let merged = merge(vec![stream("a", 0..5), stream("b", 10..13)], true, &mut out);
    assert_eq!(merged.unwrap(), 3);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "merge 10\nmerge 12\nmerge 14\n"
    );
}
