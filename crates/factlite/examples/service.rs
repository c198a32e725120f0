//! A small service shaped like a web backend: worker threads share one
//! [`Store`] (a cheap, `Send + Sync` handle: each worker holds a clone) and
//! answer requests from a queue, writing with serde structs and the entity
//! builder and reading with typed parameters into serde structs. Reads run
//! in parallel on the store's reader connections; writes serialize through
//! its one writer. Nothing here is ever EDN text built from user input.
//!
//! Run it with `cargo run -p factlite --example service --features serde`;
//! `tests/service_example.rs` runs it and checks what it prints.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use factlite::{Entity, LookupRef, QueryResultExt, Store};
use serde::{Deserialize, Serialize};

fn main() -> Result<(), Box<dyn Error>> {
    let directory = tempfile::tempdir()?;
    let store = Store::open(directory.path().join("shop.db"))?;
    run(&store, 4, &mut std::io::stdout())
}

/// A customer, as the request body carries it: the fields are the
/// `:customer/...` attributes.
#[derive(Serialize, Deserialize)]
struct Customer {
    email: String,
    name: String,
}

/// One line of a customer's order summary, from a `:keys` query.
#[derive(Deserialize, Serialize)]
struct Line {
    sku: String,
    quantity: i64,
}

/// What a client asks the service.
enum Request {
    Register(Customer),
    Order {
        email: String,
        sku: String,
        quantity: u32,
    },
    Summary {
        email: String,
    },
}

/// What the service answers.
enum Response {
    Registered,
    Ordered,
    Summary { email: String, lines: Vec<Line> },
    Refused { reason: String },
}

const SCHEMA: &str = r#"[
  {:db/ident :customer/email :db/valueType :db.type/string
   :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
  {:db/ident :customer/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
  {:db/ident :order/customer :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
  {:db/ident :order/sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
  {:db/ident :order/quantity :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]"#;

/// Handles one request on a worker's clone of the store.
fn handle(store: &Store, request: Request) -> factlite::Result<Response> {
    match request {
        Request::Register(customer) => {
            // A serde struct as an entity map; upserts by the unique email.
            store.transact(Entity::from_serde(":customer", &customer)?)?;
            Ok(Response::Registered)
        }
        Request::Order {
            email,
            sku,
            quantity,
        } => {
            let order = Entity::new()
                .set(
                    ":order/customer",
                    LookupRef(":customer/email", email.as_str()),
                )
                .set(":order/sku", sku)
                .set(":order/quantity", quantity);
            store.transact(order)?;
            Ok(Response::Ordered)
        }
        Request::Summary { email } => {
            // Typed parameters: the email is bound, never spliced. `:with ?o`
            // keeps one quantity per order (a set of ?q alone would merge
            // equal quantities, as in Datomic).
            let lines = store
                .db()?
                .q_str(
                    "[:find ?sku (sum ?q) :keys sku quantity :with ?o :in $ ?email
                      :where [?c :customer/email ?email] [?o :order/customer ?c]
                             [?o :order/sku ?sku] [?o :order/quantity ?q]
                      :order-by ?sku]",
                    (email.as_str(),),
                )?
                .deserialize()?;
            Ok(Response::Summary { email, lines })
        }
    }
}

/// Serves `requests` on `workers` threads and returns the responses in
/// request order.
fn serve(store: &Store, workers: usize, requests: Vec<Request>) -> Vec<Response> {
    let (to_workers, queue) = mpsc::channel::<(usize, Request)>();
    let queue = Arc::new(Mutex::new(queue));
    let (to_client, responses) = mpsc::channel();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (store, queue, to_client) = (store.clone(), queue.clone(), to_client.clone());
            thread::spawn(move || loop {
                let next = queue.lock().map(|queue| queue.recv());
                let Ok(Ok((id, request))) = next else { break };
                let response = handle(&store, request).unwrap_or_else(|error| Response::Refused {
                    reason: error.to_string(),
                });
                if to_client.send((id, response)).is_err() {
                    break;
                }
            })
        })
        .collect();
    drop(to_client);
    for request in requests.into_iter().enumerate() {
        // The workers outlive the loop: a send fails only if all panicked.
        if to_workers.send(request).is_err() {
            break;
        }
    }
    drop(to_workers);
    let answered: BTreeMap<usize, Response> = responses.iter().collect();
    for handle in handles {
        let _ = handle.join();
    }
    answered.into_values().collect()
}

/// The service on an empty store: registrations, then orders placed
/// concurrently, then concurrent summaries, printed to `out`.
pub fn run(store: &Store, workers: usize, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    store.transact(SCHEMA)?;
    let customers = [
        ("ann@example.com", "Ann"),
        ("bo@example.com", "Bo \"the\" Builder"),
    ];
    let registrations = customers
        .iter()
        .map(|(email, name)| {
            Request::Register(Customer {
                email: email.to_string(),
                name: name.to_string(),
            })
        })
        .collect();
    let mut answers = serve(store, workers, registrations);

    let skus = ["apple", "pear", "fig'); DROP TABLE datoms; --"];
    let orders = (0..60)
        .map(|i| Request::Order {
            email: customers[i % 2].0.to_string(),
            sku: skus[i % 3].to_string(),
            quantity: (i % 5 + 1) as u32,
        })
        .chain(std::iter::once(Request::Order {
            email: "nobody@example.com".to_string(),
            sku: "apple".to_string(),
            quantity: 1,
        }))
        .collect();
    answers.extend(serve(store, workers, orders));

    let summaries = customers
        .iter()
        .map(|(email, _)| Request::Summary {
            email: email.to_string(),
        })
        .collect();
    answers.extend(serve(store, workers, summaries));

    let (mut registered, mut ordered) = (0, 0);
    for answer in answers {
        match answer {
            Response::Registered => registered += 1,
            Response::Ordered => ordered += 1,
            Response::Summary { email, lines } => {
                writeln!(out, "{email}:")?;
                for Line { sku, quantity } in lines {
                    writeln!(out, "  {quantity:>3} × {sku}")?;
                }
            }
            Response::Refused { reason } => writeln!(out, "refused: {reason}")?,
        }
    }
    writeln!(
        out,
        "{registered} customers registered, {ordered} orders placed"
    )?;
    let names: Vec<Customer> = store
        .db()?
        .q_str(
            "[:find ?email ?name :keys email name
              :where [?c :customer/email ?email] [?c :customer/name ?name] :order-by ?email]",
            (),
        )?
        .deserialize()?;
    for Customer { email, name } in names {
        writeln!(out, "{email} is {name}")?;
    }
    Ok(())
}
