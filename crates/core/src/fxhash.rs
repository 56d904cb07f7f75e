//! The one fast hasher of kam-core: the Fx hash of rustc (rotate, xor, multiply over
//! 8-byte words) for maps keyed by the account's own ids and names — activity names when
//! pricing millions of records, node and KPI ids when correlating alerts, person ids
//! when building a 100,000-person stakeholder graph. The keys are the account's own data,
//! so hash flooding is no concern, and SipHash was most of the time spent in each of
//! those places. Not for anything persisted: the values may change between versions.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The hasher.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    /// The state rotated: a product's low bits depend only on its factors' low bits, so
    /// the raw state gives ids such as `p0`…`p99999` only a few hundred distinct low
    /// bits, which is where hashbrown takes the bucket from — 100,000 person ids fell
    /// into 289 buckets and every lookup walked a long probe of string compares. The
    /// multiply's well-mixed high bits moved down fill the bucket index instead.
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(dst) = w.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// Builds [`Fx`] hashers.
pub(crate) type FxBuild = BuildHasherDefault<Fx>;
/// A `HashMap` with the [`Fx`] hasher.
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;
/// A `HashSet` with the [`Fx`] hasher.
pub(crate) type FxSet<K> = HashSet<K, FxBuild>;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hash, Hasher};

    use super::{Fx, FxBuild};

    /// Generated person ids must spread over the buckets of a map their size: with the
    /// unrotated state, 100,000 of them shared 289 bucket indices.
    #[test]
    fn sequential_ids_spread_over_the_low_bits() {
        let mask = (1u64 << 18) - 1;
        let buckets: HashSet<u64> = (0..100_000)
            .map(|i| FxBuild::default().hash_one(format!("p{i}")) & mask)
            .collect();
        // A uniform hash puts 100,000 keys into ≈ 82,000 of 262,144 buckets.
        assert!(buckets.len() > 75_000, "{} distinct buckets", buckets.len());
    }

    /// The same key hashes the same (the maps rely on nothing more).
    #[test]
    fn deterministic() {
        let mut a = Fx::default();
        let mut b = Fx::default();
        "p42".hash(&mut a);
        "p42".hash(&mut b);
        assert_eq!(a.finish(), b.finish());
    }
}
