//! The generated data every system loads, from one fixed seed: DataScript's
//! benchmark people (`:name`, `:last-name`, `:sex`, `:age`, `:salary`, drawn
//! as its `random-man` draws them) and a genealogy (each person's two
//! parents drawn near half its id, so ancestry is deep but narrow and every
//! ancestor has a smaller id than its descendant).

/// SplitMix64: a small deterministic generator, so every run (and every
/// system) sees the same data.
pub struct Random(u64);

impl Random {
    /// The generator every data set starts from.
    pub fn seeded() -> Random {
        Random(0x5eed_da7a_5c21_b7e1)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// The items in a random order (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

pub const NAMES: [&str; 8] = [
    "Ivan", "Petr", "Sergei", "Oleg", "Yuri", "Dmitry", "Fedor", "Denis",
];
pub const LAST_NAMES: [&str; 6] = [
    "Ivanov",
    "Petrov",
    "Sidorov",
    "Kovalev",
    "Kuznetsov",
    "Voronoi",
];

/// One of DataScript's benchmark people.
pub struct Person {
    pub name: &'static str,
    pub last_name: &'static str,
    pub male: bool,
    pub age: i64,
    pub salary: i64,
}

impl Person {
    /// `:male` or `:female`.
    pub fn sex(&self) -> &'static str {
        if self.male {
            "male"
        } else {
            "female"
        }
    }
}

/// `count` people, the same ones on every run.
pub fn people(count: usize) -> Vec<Person> {
    let mut random = Random::seeded();
    (0..count)
        .map(|_| Person {
            name: NAMES[random.below(NAMES.len())],
            last_name: LAST_NAMES[random.below(LAST_NAMES.len())],
            male: random.below(2) == 0,
            age: random.below(100) as i64,
            salary: random.below(100_000) as i64,
        })
        .collect()
}

/// People with ids up to this have no parents.
const FOUNDERS: usize = 8;

/// The parents of each person of a genealogy of `count` people, by
/// person id (`1..=count`; index 0 is unused): two distinct people among
/// the three around half the person's id, so none for the founders.
pub fn genealogy(count: usize) -> Vec<Vec<usize>> {
    let mut random = Random::seeded();
    (0..=count)
        .map(|id| {
            if id <= FOUNDERS {
                return Vec::new();
            }
            let first = random.below(3);
            let second = (first + 1 + random.below(2)) % 3;
            let low = id / 2 - 1;
            vec![low + first, low + second]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_distinct_and_older() {
        let parents = genealogy(1_000);
        for (id, of) in parents.iter().enumerate() {
            for &parent in of {
                assert!(parent >= 1 && parent < id, "{id}'s parent {parent}");
            }
            if let [a, b] = of[..] {
                assert_ne!(a, b, "{id} has one parent twice");
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let (a, b) = (people(50), people(50));
        assert!(a
            .iter()
            .zip(&b)
            .all(|(a, b)| (a.name, a.age, a.salary) == (b.name, b.age, b.salary)));
    }
}
