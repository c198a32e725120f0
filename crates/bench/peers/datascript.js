// DataScript's side of factlite-bench --peers: reads the generated people
// (a JSON array of [name, last-name, sex, age, salary]), runs DataScript's
// queries at the two scales and the add-5 and add-all writes, and prints
// one line per workload: "SCALE WORKLOAD COUNT MS" (SCALE: the people
// loaded, or "writes"; MS: the median of QUERY_ROUNDS or WRITE_ROUNDS runs).
//
// node datascript.js MODULES_DIR DATA.json QUERY_ROUNDS WRITE_ROUNDS SMALL LARGE ADD5 ADDALL

const [modules, dataFile, queryRounds, writeRounds, small, large, addFive, addAll] = process.argv.slice(2);
const d = require(require('path').join(modules, 'datascript'));
const people = JSON.parse(require('fs').readFileSync(dataFile, 'utf8'));

const attributes = ['name', 'last-name', 'sex', 'age', 'salary'];
const schema = Object.fromEntries(attributes.map((a) => [a, { ':db/index': true }]));

function entity(person, id) {
  const map = { ':db/id': id };
  attributes.forEach((a, i) => { map[a] = person[i]; });
  return map;
}

function median(rounds, work) {
  const times = [];
  let count = 0;
  for (let round = 0; round < Number(rounds); round++) {
    const started = process.hrtime.bigint();
    count = work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return [count, times[Math.floor(times.length / 2)]];
}

const queries = [
  ['q1', '[:find ?e :where [?e "name" "Ivan"]]', []],
  ['q2', '[:find ?e ?a :where [?e "name" "Ivan"] [?e "age" ?a]]', []],
  ['q2-switch', '[:find ?e ?a :where [?e "age" ?a] [?e "name" "Ivan"]]', []],
  ['q3', '[:find ?e ?a :where [?e "name" "Ivan"] [?e "age" ?a] [?e "sex" "male"]]', []],
  ['q4', '[:find ?e ?l ?a :where [?e "name" "Ivan"] [?e "last-name" ?l] [?e "age" ?a] [?e "sex" "male"]]', []],
  ['qpred1', '[:find ?e ?s :where [?e "salary" ?s] [(> ?s 50000)]]', []],
  ['qpred2', '[:find ?e ?s :in $ ?min_s :where [?e "salary" ?s] [(> ?s ?min_s)]]', [50000]],
];

for (const size of [Number(small), Number(large)]) {
  const db = d.db_with(d.empty_db(schema), people.slice(0, size).map((p, i) => entity(p, -(i + 1))));
  for (const [name, query, inputs] of queries) {
    const [count, ms] = median(queryRounds, () => d.q(query, db, ...inputs).length);
    console.log(`${size} ${name} ${count} ${ms}`);
  }
}

const datoms = (db) => d.datoms(db, ':eavt').length;
{
  const forms = people.slice(0, Number(addFive)).map((p) => [entity(p, -1)]);
  const [count, ms] = median(writeRounds, () => datoms(forms.reduce((db, tx) => d.db_with(db, tx), d.empty_db(schema))));
  console.log(`writes add-5 ${count} ${ms}`);
}
{
  const forms = people.slice(0, Number(addAll)).map((p, i) => entity(p, -(i + 1)));
  const [count, ms] = median(writeRounds, () => datoms(d.db_with(d.empty_db(schema), forms)));
  console.log(`writes add-all ${count} ${ms}`);
}
