//! The event queue: earliest time first, and among equal times, first scheduled first.
//! This is the one place event order is defined.
//!
//! A simulation never schedules an event before the one it is processing, so the queue can
//! be a two-level timing wheel (a calendar queue) in absolute time:
//!
//! - a *slot* is 2^22 ns (4.19 ms) and a *block* 4096 slots (2^34 ns, 17.2 s);
//! - the entries of the current block wait in the *near* wheel, one vector per slot;
//! - those of the next 4095 blocks (19.5 h) in the *far* wheel, one list of chunks per block
//!   (emptied chunks are reused, so a backlog does not grow and copy vectors block after block);
//! - later ones in a binary heap (*beyond*), a case real scenarios hardly meet.
//!
//! The wheel orders small entries (time, sequence and a slab index, 24 bytes); the events
//! stay put in a slab whose free list is last-in first-out, so that the event scheduled while
//! one is processed takes the place that one just left, in cache. Popping takes entries from
//! the *current* slot, sorted by `(time, sequence)` when the slot is reached (and its events
//! asked from memory all at once, which a backlog far beyond the caches needs); when it is empty
//! the next non-empty slot is found in a bitmap, and when the block is empty the next block's
//! entries spread over the near wheel. An entry is thus written once, moved at most once (far
//! to near) and sorted with the few others of its slot: the cost per event does not grow with
//! the number pending. [`HeapQueue`], a binary heap, is the reference it is tested and
//! benchmarked against.

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

/// Events in a slab with a free list, addressed by slot. The slab grows by chunks of 4096
/// events, each allocated once at its full size: no growth copies the events, and the room
/// beyond those pending is at most one chunk (a doubling vector's could be as large as them).
struct Slab<E: Copy> {
    chunks: Vec<Vec<Line<E>>>,
    free: Vec<u32>,
}

/// An event on cache-line boundaries: read whole in the fewest lines (two for the engine's
/// 104 bytes, where a packed slab would have a third of them straddle three), and prefetched
/// whole.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Line<E: Copy>(E);

const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

impl<E: Copy> Slab<E> {
    const EMPTY: Slab<E> = Slab {
        chunks: Vec::new(),
        free: Vec::new(),
    };

    #[inline(always)]
    fn at(&self, slot: u32) -> &E {
        &self.chunks[(slot >> CHUNK_BITS) as usize][slot as usize & (CHUNK - 1)].0
    }

    #[inline(always)]
    fn put(&mut self, event: E) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)] = Line(event);
                i
            }
            None => {
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let n = self.chunks.len() - 1;
                let last = &mut self.chunks[n];
                last.push(Line(event));
                u32::try_from((n << CHUNK_BITS) + last.len() - 1)
                    .expect("fewer than 2^32 pending events")
            }
        }
    }

    /// Asks for the cache lines of the event in `slot` (a hint: no effect on the result).
    #[inline]
    fn prefetch(&self, slot: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let p = std::ptr::from_ref(self.at(slot)).cast::<i8>();
            // SAFETY: a prefetch reads nothing the program sees and cannot fault; the address
            // is that of a live element, and SSE is part of every x86-64 target.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(p);
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    #[inline(always)]
    fn take(&mut self, slot: u32) -> E {
        self.free.push(slot);
        *self.at(slot)
    }
}

/// A slot is 2^22 ns; a wheel has 2^12 of them; a block (a far slot) is 2^34 ns.
const SLOT_BITS: u32 = 22;
const WHEEL_BITS: u32 = 12;
const SLOTS: usize = 1 << WHEEL_BITS;
const BLOCK_BITS: u32 = SLOT_BITS + WHEEL_BITS;
/// Pending events from which a slot's events are prefetched when it is reached: 2 MB of slab,
/// more than a core's cache (below, the slab's recently freed cells are in cache anyway).
const PREFETCH_FROM: usize = 1 << 14;
/// Entries in a full chunk of the far wheel (96 KB).
const FAR_CHUNK: usize = 4096;

/// Which of 4096 slots are not empty: a word per 64 slots and a word saying which words are
/// not zero, so that the next non-empty slot is found in a few instructions.
struct Bits {
    words: [u64; SLOTS / 64],
    summary: u64,
}

impl Bits {
    const EMPTY: Bits = Bits {
        words: [0; SLOTS / 64],
        summary: 0,
    };

    #[inline]
    fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
        self.summary |= 1 << (i / 64);
    }

    #[inline]
    fn clear(&mut self, i: usize) {
        let w = &mut self.words[i / 64];
        *w &= !(1 << (i % 64));
        if *w == 0 {
            self.summary &= !(1 << (i / 64));
        }
    }

    /// The first non-empty slot at or after `i`.
    #[inline]
    fn first_from(&self, i: usize) -> Option<usize> {
        if i >= SLOTS {
            return None;
        }
        let w = i / 64;
        let here = self.words[w] & (u64::MAX << (i % 64));
        if here != 0 {
            return Some(w * 64 + here.trailing_zeros() as usize);
        }
        let above = self.summary & (u64::MAX << w) & !(1 << w);
        if above == 0 {
            return None;
        }
        let w = above.trailing_zeros() as usize;
        Some(w * 64 + self.words[w].trailing_zeros() as usize)
    }
}

#[inline]
fn slot_of(time: u64) -> usize {
    (time >> SLOT_BITS) as usize & (SLOTS - 1)
}

/// A priority queue of events keyed by `(time, insertion sequence)`, for a simulation: an
/// event is never scheduled before the last one popped.
pub struct EventQueue<E: Copy> {
    slab: Slab<E>,
    /// The slot being popped, in increasing key order from `head` on.
    current: Vec<Entry>,
    head: usize,
    /// The rest of the current block, by slot.
    near: Box<[Vec<Entry>]>,
    near_bits: Bits,
    /// The next 4095 blocks, by block number modulo 4096: each a list of chunks.
    far: Box<[Vec<Vec<Entry>>]>,
    /// Emptied chunks of at least `FAR_CHUNK` entries, reused last in first out.
    spare: Vec<Vec<Entry>>,
    far_bits: Bits,
    beyond: BinaryHeap<Earliest>,
    /// The current block and slot: those of the last event popped (0 before the first pop).
    block: u64,
    slot: usize,
    len: usize,
    next_seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            slab: Slab::EMPTY,
            current: Vec::new(),
            head: 0,
            near: (0..SLOTS).map(|_| Vec::new()).collect(),
            near_bits: Bits::EMPTY,
            far: (0..SLOTS).map(|_| Vec::new()).collect(),
            spare: Vec::new(),
            far_bits: Bits::EMPTY,
            beyond: BinaryHeap::new(),
            block: 0,
            slot: 0,
            len: 0,
            next_seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// Schedules `event` at `time`, which must not be before the last event popped.
    #[inline(always)]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let entry = Entry {
            time: time.0,
            seq: self.next_seq,
            slot: self.slab.put(event),
        };
        self.next_seq += 1;
        self.len += 1;
        let block = time.0 >> BLOCK_BITS;
        debug_assert!(block >= self.block, "an event scheduled in the past");
        if block == self.block {
            let s = slot_of(time.0);
            debug_assert!(s >= self.slot, "an event scheduled in the past");
            if s == self.slot {
                self.insert_current(entry);
            } else {
                self.near[s].push(entry);
                self.near_bits.set(s);
            }
        } else if block - self.block < SLOTS as u64 {
            self.push_far(block as usize & (SLOTS - 1), entry);
        } else {
            self.beyond.push(Earliest(entry));
        }
    }

    #[inline(always)]
    fn push_far(&mut self, b: usize, entry: Entry) {
        let chunks = &mut self.far[b];
        if let Some(c) = chunks.last_mut()
            && (c.len() < c.capacity() || c.capacity() < FAR_CHUNK)
        {
            return c.push(entry);
        }
        let mut c = self.spare.pop().unwrap_or_else(|| {
            // A block's first chunk starts small, for a few entries far ahead.
            if chunks.is_empty() {
                Vec::new()
            } else {
                Vec::with_capacity(FAR_CHUNK)
            }
        });
        c.push(entry);
        chunks.push(c);
        self.far_bits.set(b);
    }

    /// Into the slot being popped, in key order: usually at the end (the latest key so far),
    /// or among the first (an event soon after the one popped), where the entries before it
    /// move down into the room popped entries left.
    #[inline]
    fn insert_current(&mut self, entry: Entry) {
        let key = entry.key();
        if self.current.last().is_none_or(|x| x.key() < key) {
            self.current.push(entry);
        } else {
            let head = self.head;
            let at = head + self.current[head..].partition_point(|x| x.key() < key);
            if head > 0 && at - head < self.current.len() - at {
                self.current.copy_within(head..at, head - 1);
                self.head = head - 1;
                self.current[at - 1] = entry;
            } else {
                self.current.insert(at, entry);
            }
        }
    }

    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        loop {
            if let Some(&entry) = self.current.get(self.head) {
                self.head += 1;
                self.len -= 1;
                return Some((SimTime(entry.time), self.slab.take(entry.slot)));
            }
            if self.len == 0 {
                return None;
            }
            match self.near_bits.first_from(self.slot + 1) {
                Some(s) => self.reach(s),
                None => self.next_block(),
            }
        }
    }

    /// Slot `s` of the current block becomes the one popped.
    #[inline]
    fn reach(&mut self, s: usize) {
        self.near_bits.clear(s);
        self.slot = s;
        self.current.clear();
        self.head = 0;
        std::mem::swap(&mut self.current, &mut self.near[s]);
        // When a backlog has spread the slab beyond the caches, its events come from memory
        // together, while the slot is sorted: one by one, they would each wait for memory.
        if self.len >= PREFETCH_FROM {
            for e in &self.current {
                self.slab.prefetch(e.slot);
            }
        }
        if self.current.len() > 1 {
            self.current.sort_unstable_by_key(Entry::key);
        }
    }

    /// The current block is empty: the next one with events spreads over the near wheel.
    #[cold]
    fn next_block(&mut self) {
        let here = self.block as usize & (SLOTS - 1);
        // Far slot `i` holds the block in (block, block + 4096) congruent to it.
        let far = self
            .far_bits
            .first_from(here + 1)
            .or_else(|| self.far_bits.first_from(0).filter(|&i| i < here))
            .map(|i| self.block + ((i + SLOTS - here) % SLOTS) as u64);
        let beyond = self.beyond.peek().map(|x| x.0.time >> BLOCK_BITS);
        let block = match (far, beyond) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => unreachable!("pending events are in some wheel or beyond"),
        };
        self.block = block;
        if far == Some(block) {
            let i = block as usize & (SLOTS - 1);
            self.far_bits.clear(i);
            // Full-size chunks go back to the spare list; a block's list of them is next used
            // 19.5 h later, so its room goes back too (kept rooms would add up over a long run).
            for mut c in std::mem::take(&mut self.far[i]) {
                for &x in &c {
                    let s = slot_of(x.time);
                    self.near[s].push(x);
                    self.near_bits.set(s);
                }
                if c.capacity() >= FAR_CHUNK {
                    c.clear();
                    self.spare.push(c);
                }
            }
        }
        while self
            .beyond
            .peek()
            .is_some_and(|x| x.0.time >> BLOCK_BITS == block)
        {
            let x = self.beyond.pop().expect("peeked").0;
            let s = slot_of(x.time);
            self.near[s].push(x);
            self.near_bits.set(s);
        }
        let s = self.near_bits.first_from(0).expect("the block has events");
        self.reach(s);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A binary heap: the same order, `O(log n)` per operation, and no requirement that keys come
/// out increasing. The reference [`EventQueue`] is tested and benchmarked against.
pub struct HeapQueue<E: Copy> {
    heap: BinaryHeap<Earliest>,
    slab: Slab<E>,
    next_seq: u64,
}

/// An entry in a max-heap that pops the smallest key (the beyond heap, and [`HeapQueue`]).
struct Earliest(Entry);

impl PartialEq for Earliest {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}

impl Eq for Earliest {}

impl PartialOrd for Earliest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Earliest {
    /// Reversed, so that the max-heap pops the smallest `(time, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.key().cmp(&self.0.key())
    }
}

impl<E: Copy> Default for HeapQueue<E> {
    fn default() -> Self {
        HeapQueue {
            heap: BinaryHeap::new(),
            slab: Slab::EMPTY,
            next_seq: 0,
        }
    }
}

impl<E: Copy> HeapQueue<E> {
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.slab.put(event);
        self.heap.push(Earliest(Entry {
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

/// Bytes a pending event takes in the queue beside the event itself: its entry (time,
/// sequence and slab index).
pub const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Bytes of the slab a pending event of `event_bytes` takes (it is kept on cache-line
/// boundaries).
pub const fn slab_bytes(event_bytes: usize) -> usize {
    event_bytes.next_multiple_of(std::mem::align_of::<Line<()>>())
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
    fn the_wheel_pops_what_the_binary_heap_pops() {
        // Times spread over every scale (ns to days), many ties, bursts of pushes and pops.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut wheel = EventQueue::default();
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
                wheel.schedule(SimTime(now + dt), id);
                heap.schedule(SimTime(now + dt), id);
                id += 1;
            }
            let pops = if round % 100 == 99 {
                usize::MAX
            } else {
                (rng.next_u32() % 64) as usize
            };
            for _ in 0..pops {
                let (a, b) = (wheel.pop(), heap.pop());
                assert_eq!(a, b);
                match a {
                    Some((t, _)) => now = t.0,
                    None => break,
                }
            }
            assert_eq!(wheel.len(), heap.len());
        }
    }

    #[test]
    fn block_edges_wraps_and_the_far_end_of_time_keep_order() {
        // Times on slot and block edges, 4095 and 4096 blocks ahead (the far wheel's last
        // block and the first beyond it), past a wrap of the far wheel, and at the end of time.
        let block = 1u64 << BLOCK_BITS;
        let slot = 1u64 << SLOT_BITS;
        let mut wheel = EventQueue::default();
        let mut heap = HeapQueue::default();
        let mut now = 0u64;
        let mut id = 0u32;
        for round in 0..50u64 {
            let offsets = [
                0,
                1,
                slot - 1,
                slot,
                block - 1,
                block,
                block + slot,
                4095 * block,
                4096 * block,
                4097 * block + 3,
                (round % 7 + 1) * 5000 * block,
                u64::MAX - now,
            ];
            for dt in offsets {
                let t = now.saturating_add(dt);
                wheel.schedule(SimTime(t), id);
                heap.schedule(SimTime(t), id);
                id += 1;
            }
            for _ in 0..(round % 5 + 6) {
                let (a, b) = (wheel.pop(), heap.pop());
                assert_eq!(a, b);
                if let Some((t, _)) = a {
                    now = t.0;
                }
            }
            assert_eq!(wheel.len(), heap.len());
        }
        while let Some(x) = heap.pop() {
            assert_eq!(wheel.pop(), Some(x));
        }
        assert!(wheel.is_empty() && wheel.pop().is_none());
    }

    #[test]
    fn ties_scheduled_from_beyond_far_and_near_keep_insertion_order() {
        // Events at one time T, scheduled when T is beyond the far wheel, then in it, then in
        // the current block, then in the current slot, then at T itself: they come out in the
        // order they were scheduled.
        let block = 1u64 << BLOCK_BITS;
        let t = 5000 * block + 12_345;
        let mut q = EventQueue::default();
        let mut expected = Vec::new();
        let mut id = 0u32;
        let mut schedule_three = |q: &mut EventQueue<u32>, expected: &mut Vec<u32>| {
            for _ in 0..3 {
                q.schedule(SimTime(t), id);
                q.schedule(SimTime(t + 1), u32::MAX - 1);
                expected.push(id);
                id += 1;
            }
        };
        for now in [0, 1000 * block, 4900 * block, t - 1] {
            // The queue's clock moves to `now` with a marker event; nothing at T pops before.
            q.schedule(SimTime(now), u32::MAX);
            let (at, e) = q.pop().expect("the marker");
            assert_eq!((at.0, e), (now, u32::MAX));
            schedule_three(&mut q, &mut expected);
        }
        let mut got = vec![q.pop().expect("an event at T").1];
        schedule_three(&mut q, &mut expected);
        got.extend(
            std::iter::from_fn(|| q.pop())
                .filter(|&(at, _)| at.0 == t)
                .map(|(_, e)| e),
        );
        assert_eq!(got, expected);
    }

    #[test]
    fn slab_cells_are_whole_cache_lines() {
        assert_eq!(std::mem::size_of::<Line<[u8; 104]>>(), slab_bytes(104));
        assert_eq!(slab_bytes(104), 128);
        assert_eq!(slab_bytes(64), 64);
    }

    #[test]
    fn far_blocks_of_many_chunks_keep_order_and_reuse_their_room() {
        // Waves of 3.5 chunks' worth of events in one block ahead (shuffled times, ties
        // included): each wave pops in order, and from the second on the far wheel takes its
        // chunks from those the previous wave emptied.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(5);
        let block = 1u64 << BLOCK_BITS;
        let mut wheel = EventQueue::default();
        let mut heap = HeapQueue::default();
        let mut now = 0u64;
        for wave in 0..4u32 {
            for i in 0..(FAR_CHUNK * 7 / 2) as u32 {
                let t = (now / block + 2) * block + rng.next_u64() % block / 1000 * 1000;
                wheel.schedule(SimTime(t), (wave, i));
                heap.schedule(SimTime(t), (wave, i));
            }
            // Four chunks hold 3.5 chunks' worth, the same four every wave.
            let held = wheel.far.iter().flatten().count() + wheel.spare.len();
            assert_eq!(held, 4, "wave {wave}");
            while let Some(x) = heap.pop() {
                assert_eq!(wheel.pop(), Some(x));
                now = x.0.0;
            }
            assert!(wheel.is_empty());
            assert_eq!(wheel.spare.len(), 4, "the emptied chunks went back");
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
