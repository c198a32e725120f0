//! The hot aggregate: on the large people store (a file), a copy with the
//! view `salary-by-last-name` (`avg` salary per last name) installed, a
//! copy with `median-salary-by-last-name` (`median`, an order statistic)
//! and the original without either; one-datom writes (a person's salary
//! changes) take turns on the three and on the plain-EAV table, and after
//! each write the view is read, the query run from scratch and the
//! baseline's `GROUP BY` run, their group counts checked equal. The
//! median view is checked equal to its query from scratch at the end.

use std::path::Path;
use std::time::Duration;

use factlite::{edn, Store, Value};
use rusqlite::types::Value as SqlValue;

use crate::baseline::{LAST_NAME, SALARY};
use crate::data::Random;
use crate::ours;
use crate::queries::Loaded;
use crate::report::Hot;
use crate::timing::{measure, median};

const VIEW: &str = "salary-by-last-name";
const QUERY: &str = "[:find ?l (avg ?s) :where [?e :person/last-name ?l] [?e :person/salary ?s]]";
const MEDIAN_VIEW: &str = "median-salary-by-last-name";
const MEDIAN_QUERY: &str =
    "[:find ?l (median ?s) :where [?e :person/last-name ?l] [?e :person/salary ?s]]";
const QUERY_SQL: &str = "SELECT l.v, avg(s.v) FROM datoms AS l CROSS JOIN datoms AS s \
     WHERE l.a = ?1 AND s.e = l.e AND s.a = ?2 GROUP BY l.v";

fn salary_write(entity: i64, salary: i64) -> Value {
    Value::Vector(vec![Value::Vector(vec![
        Value::Keyword(factlite::Keyword::namespaced("db", "add")),
        Value::Integer(entity),
        ours::keyword("salary"),
        Value::Integer(salary),
    ])])
}

/// Runs `writes` writes and reads on `loaded` (whose stores it changes).
pub fn run(dir: &Path, loaded: &mut Loaded, writes: usize) -> Result<Hot, String> {
    let copy = dir.join("hot-with-view.db");
    loaded.file.backup_to(&copy).expect("the store copies");
    let with_view = Store::open(&copy).expect("the copy opens");
    with_view
        .materialize_str(VIEW, QUERY, &[])
        .expect("the view materializes");
    let median_copy = dir.join("hot-with-median.db");
    loaded
        .file
        .backup_to(&median_copy)
        .expect("the store copies");
    let with_median = Store::open(&median_copy).expect("the copy opens");
    with_median
        .materialize_str(MEDIAN_VIEW, MEDIAN_QUERY, &[])
        .expect("the median view materializes");
    let query = edn::parse(QUERY).expect("the query parses");
    let parameters = [SqlValue::Integer(LAST_NAME), SqlValue::Integer(SALARY)];
    let mut random = Random::seeded();
    let mut times: [Vec<Duration>; 7] = Default::default();
    let mut groups = 0;
    for round in 0..writes.max(1) {
        let person = random.below(loaded.ids.len());
        let salary = random.below(100_000) as i64;
        let entity = loaded.ids[person];
        let form = salary_write(entity, salary);
        for turn in 0..4 {
            let which = (round + turn) % 4;
            let measured = match which {
                0 => measure(|| {
                    loaded
                        .baseline
                        .update(person as i64 + 1, SALARY, SqlValue::Integer(salary))
                        .expect("the baseline writes");
                    0
                }),
                1 => measure(|| {
                    loaded.file.transact(&form).expect("the write commits");
                    0
                }),
                2 => measure(|| {
                    with_view.transact(&form).expect("the write commits");
                    0
                }),
                _ => measure(|| {
                    with_median.transact(&form).expect("the write commits");
                    0
                }),
            };
            times[which].push(measured.time);
        }
        let view = measure(|| with_view.view(VIEW).expect("the view reads").len() as u64);
        let db = with_view.db().expect("a snapshot");
        let scratch =
            measure(|| db.q_from_scratch(&query, ()).expect("the query runs").len() as u64);
        let sql = measure(|| {
            loaded
                .baseline
                .rows(QUERY_SQL, &parameters)
                .expect("the baseline query runs")
        });
        if view.count != scratch.count || view.count != sql.count {
            return Err(format!(
                "hot aggregate: the group counts differ: view {}, query {}, plain-EAV SQLite {}",
                view.count, scratch.count, sql.count
            ));
        }
        groups = view.count;
        times[4].push(view.time);
        times[5].push(scratch.time);
        times[6].push(sql.time);
    }
    let medians = with_median
        .view(MEDIAN_VIEW)
        .expect("the median view reads");
    let median_query = edn::parse(MEDIAN_QUERY).expect("the query parses");
    let from_scratch = with_median
        .db()
        .expect("a snapshot")
        .q_from_scratch(&median_query, ())
        .expect("the median query runs");
    if medians != from_scratch {
        return Err("hot aggregate: the median view differs from its query".to_string());
    }
    let [baseline_write, write_without_view, write_with_view, write_with_median, view_read, query, baseline_query] =
        times.map(median);
    let hot = Hot {
        datoms: loaded.ids.len() as u64 * 5,
        groups,
        baseline_write,
        write_without_view,
        write_with_view,
        write_with_median,
        view_read,
        query,
        baseline_query,
    };
    println!(
        "hot aggregate: write ms plain-EAV {:.3}, without view {:.3}, with view {:.3}, with median view {:.3}; view read {:.4}, query {:.1}",
        baseline_write.as_secs_f64() * 1e3,
        write_without_view.as_secs_f64() * 1e3,
        write_with_view.as_secs_f64() * 1e3,
        write_with_median.as_secs_f64() * 1e3,
        view_read.as_secs_f64() * 1e3,
        query.as_secs_f64() * 1e3
    );
    Ok(hot)
}
