//! Random draws on the hot path, written out so that they inline and convert in one
//! instruction, with the values `rand` gives.

/// A uniform draw from `[0, 1)`: what `rng.random::<f64>()` gives (rand 0.10: the top 53 bits
/// of `next_u64`, times 2^-53), bit for bit, from the same generator state.
#[inline(always)]
pub fn unit_f64<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    // Below 2^53: the signed conversion is exact, in one instruction.
    ((rng.next_u64() >> 11) as i64 as f64) * SCALE
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn unit_draws_are_rands_own() {
        let mut a = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut b = a.clone();
        for _ in 0..100_000 {
            let (x, y) = (unit_f64(&mut a), b.random::<f64>());
            assert_eq!(x.to_bits(), y.to_bits());
        }
    }
}
