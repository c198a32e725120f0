//! Streaming results: reading a large relation through `Db::q_rows` holds
//! one row at a time, while `Db::q` holds the whole set. Memory is measured
//! with a counting global allocator (SQLite's own memory, where `SELECT
//! DISTINCT` remembers the rows it has seen, is not Rust's and is not
//! counted). This binary holds a single test so no other test allocates
//! meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use factlite::{edn, QueryResult, Store, Value};

/// The system allocator, counting the bytes live now and at the peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes live at once while `work` runs, above what was live
/// before.
fn peak_during<R>(work: impl FnOnce() -> R) -> (R, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = work();
    (result, PEAK.load(Ordering::SeqCst) - before)
}

#[test]
fn a_streamed_relation_holds_one_row_at_a_time() {
    let store = Store::open_in_memory().expect("store");
    store
        .transact_str(
            r#"[{:db/ident :item/n :db/valueType :db.type/long
                 :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    let entities: Vec<String> = (0..400).map(|n| format!("{{:item/n {n}}}")).collect();
    store
        .transact_str(&format!("[{}]", entities.join(" ")))
        .expect("items");
    let db = store.db().expect("db");
    // Every pair: 160,000 distinct rows.
    let query = edn::parse("[:find ?a ?b :where [_ :item/n ?a] [_ :item/n ?b]]").expect("edn");
    // Compile first, so that planning is not measured.
    db.q_rows(&query, &[], |rows| rows.take(1).count())
        .expect("compile");

    let (count, streamed) = peak_during(|| {
        db.q_rows(&query, &[], |rows| {
            let mut count = 0usize;
            for row in rows {
                let Value::Vector(pair) = &row.expect("row") else {
                    panic!("a relation's rows are vectors");
                };
                assert_eq!(pair.len(), 2);
                count += 1;
            }
            count
        })
        .expect("stream")
    });
    assert_eq!(count, 160_000);

    let (whole, materialized) = peak_during(|| db.q(&query, &[]).expect("q"));
    let QueryResult::Relation(rows) = &whole else {
        panic!("a relation");
    };
    assert_eq!(rows.len(), 160_000);

    // Holding 160,000 rows takes many megabytes; streaming them, a few
    // kilobytes (the statement's buffers and one row).
    assert!(
        materialized > 8_000_000,
        "q should hold every row: {materialized} bytes"
    );
    assert!(
        streamed < 256 * 1024,
        "streaming held {streamed} bytes (q held {materialized})"
    );
}
