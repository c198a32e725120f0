//! [`VerifyReport`]: what [`crate::Store::verify`] found — SQLite's
//! `integrity_check` and the store's own invariants (the current datoms
//! agree with the log, the log alternates assertions and retractions,
//! attribute statistics count the datoms, the full-text index, the
//! partitions' next ids, nothing an excision removed is left, every view
//! equals its query from scratch).

use std::fmt;

pub use factlite_store::{Problem, ProblemKind, EXAMPLES as PROBLEM_EXAMPLES};

/// The problems [`crate::Store::verify`] found, in the order the checks
/// ran; none on a sound store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// One per broken invariant (each with its count and first examples).
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether a problem of this kind was found.
    pub fn has(&self, kind: ProblemKind) -> bool {
        self.problems.iter().any(|problem| problem.kind == kind)
    }
}

/// One line per problem, or `no problems found`.
impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("no problems found");
        }
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
