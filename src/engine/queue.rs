//! The event queue: earliest time first, and among equal times, first scheduled first.
//! This is the one place event order is defined.
//!
//! Events stay put in a slab, reused through a free list; the queue orders small entries (a
//! key packing time and sequence, and a slot), so reordering moves the same few bytes whatever
//! the size of an event.
//!
//! The order is kept by a radix heap: a simulation never schedules an event before the one it
//! is processing, so keys come out in increasing order and each entry sits in the bucket of the
//! highest bit in which its key differs from the last key popped. A push is a bit scan and a
//! vector push; a pop takes the lowest non-empty bucket and, when it holds several entries,
//! moves them to lower buckets around the smallest. An entry moves down at most 128 times in
//! its life, and in practice once or twice, so the cost per event does not grow with the
//! number pending (a binary heap's does, as log n). [`HeapQueue`], the binary heap it replaced,
//! stays as the reference it is tested and benchmarked against.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// 24 bytes: the time and sequence as two words (a `u128` would align the entry to 32).
#[derive(Clone, Copy)]
struct Entry {
    time: u64,
    seq: u64,
    slot: u32,
}

impl Entry {
    /// `time << 64 | seq`: one integer comparison orders both; keys are unique.
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

/// Events in a slab with a free list, addressed by slot.
struct Slab<E: Copy> {
    events: Vec<E>,
    free: Vec<u32>,
}

impl<E: Copy> Slab<E> {
    #[inline]
    fn put(&mut self, event: E) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.events[i as usize] = event;
                i
            }
            None => {
                self.events.push(event);
                u32::try_from(self.events.len() - 1).expect("fewer than 2^32 pending events")
            }
        }
    }

    #[inline]
    fn take(&mut self, slot: u32) -> E {
        self.free.push(slot);
        self.events[slot as usize]
    }
}

/// Bytes of a key, and buckets per byte.
const LEVELS: usize = 16;
const DIGITS: usize = 256;

/// An event with its key, kept in the buckets themselves: a pop reads the bucket it scans
/// anyway, where a slab would cost a cache miss per event once many are pending.
#[derive(Clone, Copy)]
struct Item<E: Copy> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E: Copy> Item<E> {
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

/// A priority queue of events keyed by `(time, insertion sequence)`, for a simulation: an
/// event is never scheduled before the last one popped.
pub struct EventQueue<E: Copy> {
    /// `buckets[l * 256 + d]` holds the events whose key first differs from `last` in byte
    /// `l` (from the lowest), where it is `d`. `levels` has bit `l` set when some bucket of
    /// byte `l` is not empty, `digits[l]` the non-empty buckets of that byte.
    buckets: Vec<Vec<Item<E>>>,
    levels: u32,
    digits: [[u64; 4]; LEVELS],
    /// The key last popped (0 before the first pop).
    last: u128,
    len: usize,
    next_seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            levels: 0,
            digits: [[0; 4]; LEVELS],
            last: 0,
            len: 0,
            // From 1, so that every key is above the initial `last` of 0.
            next_seq: 1,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// Schedules `event` at `time`, which must not be before the last event popped.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let item = Item {
            time: time.0,
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        debug_assert!(item.key() > self.last, "an event scheduled in the past");
        self.insert(item);
        self.len += 1;
    }

    #[inline]
    fn insert(&mut self, item: Item<E>) {
        // Keys are unique and greater than `last`, so they differ in some byte.
        let key = item.key();
        let l = (127 - (key ^ self.last).leading_zeros() as usize) / 8;
        let d = ((key >> (8 * l)) & 0xff) as usize;
        self.buckets[l * DIGITS + d].push(item);
        self.levels |= 1 << l;
        self.digits[l][d / 64] |= 1 << (d % 64);
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.levels == 0 {
            return None;
        }
        let l = self.levels.trailing_zeros() as usize;
        let words = &mut self.digits[l];
        let w = words
            .iter()
            .position(|&x| x != 0)
            .expect("a non-empty level");
        let d = w * 64 + words[w].trailing_zeros() as usize;
        let bucket = &mut self.buckets[l * DIGITS + d];
        let e = if bucket.len() == 1 {
            let e = bucket.pop().expect("not empty");
            words[w] &= !(1 << (d % 64));
            if words.iter().all(|&x| x == 0) {
                self.levels &= !(1 << l);
            }
            e
        } else {
            // The smallest key of the lowest bucket is the next event; the others share its
            // bytes from `l` up, so they move to lower levels around it.
            let mut min = 0;
            for (i, x) in bucket.iter().enumerate().skip(1) {
                if (x.time, x.seq) < (bucket[min].time, bucket[min].seq) {
                    min = i;
                }
            }
            let e = bucket.swap_remove(min);
            let mut rest = std::mem::take(bucket);
            words[w] &= !(1 << (d % 64));
            if words.iter().all(|&x| x == 0) {
                self.levels &= !(1 << l);
            }
            self.last = e.key();
            for x in rest.drain(..) {
                self.insert(x);
            }
            // A small bucket keeps its room for the next events; a large one gives it back,
            // or the room of every bucket a backlog passed through would add up.
            if rest.capacity() <= 256 {
                self.buckets[l * DIGITS + d] = rest;
            }
            e
        };
        self.last = e.key();
        self.len -= 1;
        Some((SimTime(e.time), e.event))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The binary heap the radix heap replaced: the same order, `O(log n)` per operation, and no
/// requirement that keys come out increasing. Kept as the reference [`EventQueue`] is tested
/// and benchmarked against.
pub struct HeapQueue<E: Copy> {
    heap: BinaryHeap<HeapEntry>,
    slab: Slab<E>,
    next_seq: u64,
}

struct HeapEntry(Entry);

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}

impl Eq for HeapEntry {}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HeapEntry {
    /// Reversed, so that the max-heap pops the smallest `(time, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.key().cmp(&self.0.key())
    }
}

impl<E: Copy> Default for HeapQueue<E> {
    fn default() -> Self {
        HeapQueue {
            heap: BinaryHeap::new(),
            slab: Slab {
                events: Vec::new(),
                free: Vec::new(),
            },
            next_seq: 0,
        }
    }
}

impl<E: Copy> HeapQueue<E> {
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.slab.put(event);
        self.heap.push(HeapEntry(Entry {
            time: time.0,
            seq,
            slot,
        }));
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?.0;
        Some((SimTime(e.time), self.slab.take(e.slot)))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Bytes a pending event takes in the queue beside the event itself (its time and sequence).
pub const ENTRY_BYTES: usize = std::mem::size_of::<Item<()>>();

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
        let mut now = 0u64;
        for _ in 0..20_000 {
            if rng.next_u32() % 3 != 0 || model.is_empty() {
                // As a simulation does: at or after the event being processed.
                let t = now + u64::from(rng.next_u32() % 50);
                q.schedule(SimTime(t), seq);
                model.push((t, seq));
                seq += 1;
            } else {
                model.sort();
                let (t, e) = model.remove(0);
                assert_eq!(q.pop(), Some((SimTime(t), e)));
                now = t;
            }
            assert_eq!(q.len(), model.len());
        }
        model.sort();
        for (t, e) in model {
            assert_eq!(q.pop(), Some((SimTime(t), e)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn the_radix_heap_pops_what_the_binary_heap_pops() {
        // Times spread over every scale (ns to days), many ties, bursts of pushes and pops.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut radix = EventQueue::default();
        let mut heap = HeapQueue::default();
        let mut now = 0u64;
        let mut id = 0u32;
        for round in 0..2_000 {
            for _ in 0..rng.next_u32() % 64 {
                let scale = rng.next_u32() % 48;
                let dt = if rng.next_u32() % 4 == 0 {
                    0
                } else {
                    rng.next_u64() >> (16 + scale)
                };
                radix.schedule(SimTime(now + dt), id);
                heap.schedule(SimTime(now + dt), id);
                id += 1;
            }
            let pops = if round % 100 == 99 {
                usize::MAX
            } else {
                (rng.next_u32() % 64) as usize
            };
            for _ in 0..pops {
                let (a, b) = (radix.pop(), heap.pop());
                assert_eq!(a, b);
                match a {
                    Some((t, _)) => now = t.0,
                    None => break,
                }
            }
            assert_eq!(radix.len(), heap.len());
        }
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
