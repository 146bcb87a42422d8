//! Every kind of token a request carries, and how a stream draws them. xAI counts all of them
//! toward TPM: text prompt tokens (of which some may be cached), image tokens, completion tokens
//! and reasoning tokens.

use rand::RngExt;
use serde::Serialize;

use super::{TokenDist, TokenSampler};

/// The optional token kinds of a stream, beyond text prompt and completion tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExtraTokens {
    /// Images per request (may be 0) and tokens per image (each image drawn on its own).
    pub images: Option<(TokenDist, TokenDist)>,
    /// The share of the text prompt that is cached: uniform on `[low, high]` (constant if
    /// equal). Cached tokens are part of the prompt; they count toward TPM in full.
    pub cached_share: Option<(f64, f64)>,
    /// Reasoning tokens, generated before the answer: they take output time too.
    pub reasoning_tokens: Option<TokenDist>,
}

impl ExtraTokens {
    pub fn is_empty(&self) -> bool {
        self.images.is_none() && self.cached_share.is_none() && self.reasoning_tokens.is_none()
    }

    /// Mean image plus reasoning tokens per request.
    pub fn mean_extra(&self) -> f64 {
        self.images
            .as_ref()
            .map_or(0.0, |(n, t)| n.mean() * t.mean())
            + self.reasoning_tokens.as_ref().map_or(0.0, TokenDist::mean)
    }
}

/// The tokens of one request, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Text prompt tokens (cached ones included).
    pub prompt: u64,
    pub completion: u64,
    pub image: u32,
    /// Cached prompt tokens: a part of `prompt`.
    pub cached: u32,
    pub reasoning: u32,
    /// Images in the request (their tokens are `image`): what an images-per-minute cap counts.
    pub images: u16,
}

impl Size {
    /// Every token that counts toward TPM.
    pub fn total(&self) -> u64 {
        self.prompt
            .saturating_add(self.completion)
            .saturating_add(u64::from(self.image))
            .saturating_add(u64::from(self.reasoning))
    }

    /// Tokens generated (completion and reasoning), which take output time.
    pub fn generated(&self) -> u64 {
        self.completion.saturating_add(u64::from(self.reasoning))
    }
}

/// Samplers of a stream's sizes.
#[derive(Clone, Debug)]
pub struct SizeSampler {
    prompt: TokenSampler,
    completion: TokenSampler,
    images: Option<(TokenSampler, TokenSampler)>,
    cached_share: Option<(f64, f64)>,
    reasoning: Option<TokenSampler>,
}

impl SizeSampler {
    pub fn new(prompt: &TokenDist, completion: &TokenDist, extra: &ExtraTokens) -> SizeSampler {
        SizeSampler {
            prompt: prompt.sampler(),
            completion: completion.sampler(),
            images: extra
                .images
                .as_ref()
                .map(|(n, t)| (n.sampler(), t.sampler())),
            cached_share: extra.cached_share,
            reasoning: extra.reasoning_tokens.as_ref().map(TokenDist::sampler),
        }
    }

    /// Draws one request's sizes: prompt and completion first (as a stream without extra kinds
    /// draws them, so adding a kind does not shift them), then images, the cached share and
    /// reasoning.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Size {
        let prompt = self.prompt.sample(rng);
        let completion = self.completion.sample(rng);
        let mut image: u64 = 0;
        let mut images: u64 = 0;
        if let Some((count, per)) = &self.images {
            images = count.sample(rng);
            for _ in 0..images {
                image = image.saturating_add(per.sample(rng));
            }
        }
        let cached = match self.cached_share {
            Some((lo, hi)) => {
                let share = if hi > lo {
                    rng.random_range(lo..=hi)
                } else {
                    lo
                };
                crate::time::round_to_u64(crate::time::u64_to_f64(prompt) * share)
            }
            None => 0,
        };
        let reasoning = self.reasoning.as_ref().map_or(0, |r| r.sample(rng));
        Size {
            prompt,
            completion,
            image: u32::try_from(image).unwrap_or(u32::MAX),
            cached: u32::try_from(cached).unwrap_or(u32::MAX),
            reasoning: u32::try_from(reasoning).unwrap_or(u32::MAX),
            images: u16::try_from(images).unwrap_or(u16::MAX),
        }
    }
}
