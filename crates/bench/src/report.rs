//! The results: a row per workload (the baseline's median, factlite's on a
//! file and in memory, their ratios to the baseline and the target of issue
//! #16), the hot aggregate's own table, the table printed and
//! `BENCHMARKS.md` written with the machine, the versions and, for each
//! missed target, by how much and the plans of both sides.

use std::fmt::Write as _;
use std::time::Duration;

use crate::pages::Pages;

/// What a factlite contender gave for a workload.
#[derive(Clone, Copy)]
pub enum Outcome {
    Time(Duration),
    TimedOut(Duration),
}

/// One workload's figures.
pub struct Row {
    pub section: String,
    pub workload: String,
    pub count: u64,
    pub baseline: Duration,
    pub file: Outcome,
    pub memory: Outcome,
    /// The largest ratio to the baseline issue #16 accepts.
    pub target: Option<f64>,
    /// factlite's plan and the baseline's, for a missed target.
    pub plans: Option<(Vec<String>, Vec<String>)>,
    /// The pages a write workload's commits wrote, on each side.
    pub pages: Option<PagesPerCommit>,
}

/// The pages a write workload wrote to the baseline's file and to
/// factlite's, and in how many commits.
pub struct PagesPerCommit {
    pub baseline: Pages,
    pub file: Pages,
    pub commits: usize,
}

/// The hot aggregate's figures (a file store).
pub struct Hot {
    pub datoms: u64,
    pub groups: u64,
    pub baseline_write: Duration,
    pub write_without_view: Duration,
    pub write_with_view: Duration,
    pub write_with_median: Duration,
    pub view_read: Duration,
    pub query: Duration,
    pub baseline_query: Duration,
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 1.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.4}")
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

impl Outcome {
    fn cell(self) -> String {
        match self {
            Outcome::Time(time) => ms(time),
            Outcome::TimedOut(limit) => format!("timed out after {} s", limit.as_secs()),
        }
    }

    fn ratio_cell(self, baseline: Duration) -> String {
        match self {
            Outcome::Time(time) => format!("{:.2}×", ratio(time, baseline)),
            Outcome::TimedOut(limit) => format!("> {:.0}×", ratio(limit, baseline)),
        }
    }

    fn ratio(self, baseline: Duration) -> f64 {
        match self {
            Outcome::Time(time) | Outcome::TimedOut(time) => ratio(time, baseline),
        }
    }
}

impl Row {
    /// The file store's ratio when it misses the target.
    pub fn missed(&self) -> Option<(f64, f64)> {
        let target = self.target?;
        let ratio = self.file.ratio(self.baseline);
        (ratio > target || matches!(self.file, Outcome::TimedOut(_))).then_some((ratio, target))
    }
}

/// The main table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scale | workload | count | plain-EAV SQLite ms | factlite file ms | factlite memory ms | file ÷ SQLite | memory ÷ SQLite | target |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let target = match (row.target, row.missed()) {
            (None, _) => String::new(),
            (Some(target), None) => format!("≤ {target}× met"),
            (Some(target), Some(_)) => format!("≤ {target}× **missed**"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.section,
            row.workload,
            row.count,
            ms(row.baseline),
            row.file.cell(),
            row.memory.cell(),
            row.file.ratio_cell(row.baseline),
            row.memory.ratio_cell(row.baseline),
            target
        );
    }
    out
}

/// The hot aggregate's table as Markdown.
pub fn hot_table(hot: &Hot) -> String {
    let write_ratio = ratio(hot.write_with_view, hot.write_without_view);
    let median_ratio = ratio(hot.write_with_median, hot.write_without_view);
    let read_ratio = ratio(hot.query, hot.view_read);
    format!(
        "A file store of {} datoms with the view `salary-by-last-name` ({} groups, `avg`), one-datom \
         writes (a salary changes) between reads; the same writes on a copy with the view \
         `median-salary-by-last-name` (`median`) instead, on a copy without either, \
         and on the plain-EAV table (`UPDATE`).\n\n\
         | measure | ms (median) |\n|---|---:|\n\
         | one-datom write, plain-EAV SQLite | {} |\n\
         | one-datom write, factlite without the view | {} |\n\
         | one-datom write, factlite with the view | {} |\n\
         | with ÷ without (target ≤ 3×) | {write_ratio:.2}× {} |\n\
         | one-datom write, factlite with the `median` view | {} |\n\
         | with the `median` view ÷ without (target ≤ 3×) | {median_ratio:.2}× {} |\n\
         | view read (`Store::view`) | {} |\n\
         | the query from scratch (`Db::q_from_scratch`) | {} |\n\
         | the query in plain-EAV SQL (`GROUP BY`) | {} |\n\
         | query ÷ view read (target ≥ 1,000×) | {read_ratio:.0}× {} |\n",
        hot.datoms,
        hot.groups,
        ms(hot.baseline_write),
        ms(hot.write_without_view),
        ms(hot.write_with_view),
        if write_ratio <= 3.0 { "met" } else { "**missed**" },
        ms(hot.write_with_median),
        if median_ratio <= 3.0 { "met" } else { "**missed**" },
        ms(hot.view_read),
        ms(hot.query),
        ms(hot.baseline_query),
        if read_ratio >= 1000.0 { "met" } else { "**missed**" },
    )
}

/// Each missed target: by how much, and the two plans.
pub fn missed(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let Some((ratio, target)) = row.missed() else {
            continue;
        };
        let _ = writeln!(
            out,
            "### {} {} — {ratio:.2}× against ≤ {target}× ({:.0}% over)\n",
            row.section,
            row.workload,
            (ratio / target - 1.0) * 100.0
        );
        if let Some(pages) = &row.pages {
            let _ = writeln!(
                out,
                "Pages written per commit (WAL frames, by table or index):\n\n\
                 - plain-EAV SQLite: {}\n- factlite file: {}\n",
                pages.baseline.per_commit(pages.commits),
                pages.file.per_commit(pages.commits)
            );
        }
        if let Some((ours, theirs)) = &row.plans {
            let _ = writeln!(
                out,
                "factlite's plan (`explain`):\n\n```\n{}\n```\n\nthe baseline's plan:\n\n```\n{}\n```\n",
                ours.join("\n"),
                theirs.join("\n")
            );
        }
    }
    out
}

/// The machine: CPU model, cores and memory.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / (1024.0 * 1024.0));
    format!("{model}, {cores} cores (nproc), {memory_gib:.0} GiB of memory")
}

/// The one-, five- and fifteen-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

/// factlite beside the peers, for the workloads they ran: each peer's
/// median, or the count it returned when that differs from everyone
/// else's.
pub fn peers_table(rows: &[Row], peers: &[crate::peers::Peer]) -> String {
    let mut out =
        String::from("| scale | workload | count | factlite file ms | factlite memory ms |");
    for peer in peers {
        let short = peer.name.split(' ').next().unwrap_or_default();
        let _ = write!(out, " {short} ms | {short} ÷ factlite file |");
    }
    out.push_str("\n|---|---|---:|---:|---:|");
    out.push_str(&"---:|---:|".repeat(peers.len()));
    out.push('\n');
    for row in rows {
        let workload = row.workload.split(' ').next().unwrap_or_default();
        let figures: Vec<Option<&(String, String, u64, f64)>> = peers
            .iter()
            .map(|peer| {
                peer.figures
                    .iter()
                    .find(|(section, name, _, _)| *section == row.section && name == workload)
            })
            .collect();
        if figures.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.section,
            row.workload,
            row.count,
            row.file.cell(),
            row.memory.cell()
        );
        for figure in figures {
            match figure {
                Some((_, _, count, ms)) if *count == row.count => {
                    let file = match row.file {
                        Outcome::Time(time) | Outcome::TimedOut(time) => time.as_secs_f64() * 1e3,
                    };
                    let _ = write!(out, " {ms:.2} | {:.1}× |", ms / file.max(1e-9));
                }
                Some((_, _, count, _)) => {
                    let _ = write!(out, " count differs: {count} | |");
                }
                None => out.push_str(" not run | |"),
            }
        }
        out.push('\n');
    }
    out
}
