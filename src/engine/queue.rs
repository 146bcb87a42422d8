//! The event queue: earliest time first, and among equal times, first scheduled first.
//! This is the one place event order is defined.
//!
//! The heap holds small entries (a key packing time and sequence, and a slot); the events
//! themselves stay put in a slab, reused through a free list, so sifting moves the same few
//! bytes whatever the size of an event.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

struct Entry {
    /// `time << 64 | seq`: one integer comparison orders both; keys are unique.
    key: u128,
    slot: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so that the max-heap pops the smallest `(time, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A priority queue of events keyed by `(time, insertion sequence)`.
pub struct EventQueue<E: Copy> {
    heap: BinaryHeap<Entry>,
    slab: Vec<E>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = event;
                i
            }
            None => {
                self.slab.push(event);
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.heap.push(Entry {
            key: (u128::from(time.0) << 64) | u128::from(seq),
            slot,
        });
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        self.free.push(e.slot);
        Some((SimTime((e.key >> 64) as u64), self.slab[e.slot as usize]))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_times_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(5), "c");
        q.schedule(SimTime(1), "a");
        q.schedule(SimTime(5), "d");
        q.schedule(SimTime(1), "b");
        q.schedule(SimTime(5), "e");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn agrees_with_a_sorted_list_on_random_operations() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut q = EventQueue::default();
        let mut model: Vec<(u64, u64)> = Vec::new();
        let mut seq = 0;
        for _ in 0..20_000 {
            if rng.next_u32() % 3 != 0 || model.is_empty() {
                let t = u64::from(rng.next_u32() % 50);
                q.schedule(SimTime(t), seq);
                model.push((t, seq));
                seq += 1;
            } else {
                model.sort();
                let (t, e) = model.remove(0);
                assert_eq!(q.pop(), Some((SimTime(t), e)));
            }
        }
        model.sort();
        for (t, e) in model {
            assert_eq!(q.pop(), Some((SimTime(t), e)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn many_ties_keep_order() {
        let mut q = EventQueue::default();
        for i in 0..1000 {
            q.schedule(SimTime(i % 3), i);
        }
        let mut last = (SimTime(0), -1i64);
        while let Some((t, e)) = q.pop() {
            assert!((t, e as i64) > last, "{t:?} {e} after {last:?}");
            last = (t, e as i64);
        }
    }
}
