//! The profile engine: profiles compiled once into per-attribute regex sets and a port index,
//! then every endpoint classified against every enabled profile.
//!
//! One regex-set pass per attribute value answers all rules on that attribute at once, and
//! per-endpoint work reuses a [`Scratch`], so a re-model allocates little more than its
//! results. The engine is immutable and `Sync`: [`ProfileEngine::remodel_parallel`] splits
//! the endpoints over threads.

use std::collections::HashSet;
use std::num::NonZeroUsize;

use regex::RegexSet;

use super::catalogue::ProfileError;
use super::dynamic::{dynamic_profile_name, most_specific_dynamic_profile};
use super::profile::{Profile, ProfileId};
use super::rule::{compile_set, Attribute, Matcher, Rule};
use super::score::{Classification, MatchLevel, ProfileMatch, ProfileRef, RuleMask};
use crate::inventory::Endpoint;

/// A rule's place: profile index and rule index within it.
#[derive(Debug, Clone, Copy)]
struct RuleRef {
    profile: u16,
    rule: u8,
}

/// All text rules on one attribute, compiled together.
#[derive(Debug, Clone)]
struct TextSet {
    attribute: Attribute,
    set: RegexSet,
    /// `rules[i]` is the rule of pattern `i` in `set`.
    rules: Vec<RuleRef>,
}

/// Profiles compiled for fast classification. Cloning is cheap (compiled patterns are shared)
/// and gives the clone its own regex match caches.
#[derive(Debug, Clone)]
pub struct ProfileEngine {
    profiles: Vec<Profile>,
    text_sets: Vec<TextSet>,
    /// Open-port rules by port, sorted by port.
    ports: Vec<(u16, RuleRef)>,
    /// Per profile, the rules that must match.
    required: Vec<RuleMask>,
}

/// Working memory for classifying endpoints one after another without allocating; get one
/// from [`ProfileEngine::scratch`] and reuse it.
#[derive(Debug)]
pub struct Scratch {
    matched: Vec<RuleMask>,
    touched: Vec<u16>,
}

impl ProfileEngine {
    /// At most this many runners-up are kept per endpoint.
    pub const MAX_CONSIDERED: usize = 5;

    /// Compiles `profiles`. They keep their order: [`ProfileId`]s are positions in it, and
    /// ties between equal matches go to the earlier profile.
    pub fn new(profiles: Vec<Profile>) -> Result<Self, ProfileError> {
        check(&profiles)?;
        let mut texts: Vec<(Attribute, Vec<&str>, Vec<RuleRef>)> = Attribute::TEXT
            .iter()
            .map(|a| (*a, Vec::new(), Vec::new()))
            .collect();
        let mut ports = Vec::new();
        let mut required = Vec::with_capacity(profiles.len());
        for (p, profile) in profiles.iter().enumerate() {
            let mut must = RuleMask::default();
            // check() bounds both indices, so the casts cannot truncate.
            for (r, rule) in profile.rules.iter().enumerate().filter(|_| profile.enabled) {
                let at = RuleRef {
                    profile: p as u16,
                    rule: r as u8,
                };
                if rule.required {
                    must.insert(r);
                }
                match &rule.matcher {
                    Matcher::Pattern(regex) => {
                        let slot = texts.iter_mut().find(|t| t.0 == rule.attribute);
                        let (_, patterns, refs) = slot.expect("TEXT lists every text attribute");
                        patterns.push(regex.as_str());
                        refs.push(at);
                    }
                    Matcher::Ports(list) => ports.extend(list.iter().map(|port| (*port, at))),
                }
            }
            required.push(must);
        }
        ports.sort_by_key(|(port, _)| *port);
        let mut text_sets = Vec::new();
        for (attribute, patterns, rules) in texts.into_iter().filter(|t| !t.1.is_empty()) {
            let set = compile_set(patterns).map_err(|message| ProfileError {
                profile: None,
                name: None,
                rule: None,
                message: format!("{} rules: {message}", attribute.label()),
            })?;
            text_sets.push(TextSet {
                attribute,
                set,
                rules,
            });
        }
        Ok(Self {
            profiles,
            text_sets,
            ports,
            required,
        })
    }

    /// An engine over the factory profiles.
    pub fn factory() -> Result<Self, ProfileError> {
        Self::new(super::factory_profiles()?)
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// # Panics
    /// If `id` comes from another engine with more profiles.
    pub fn profile(&self, id: ProfileId) -> &Profile {
        &self.profiles[id.index()]
    }

    /// The profile named `name`, ignoring case.
    pub fn find(&self, name: &str) -> Option<ProfileId> {
        let index = self
            .profiles
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))?;
        Some(ProfileId(index as u16))
    }

    /// The display name of a matched profile.
    pub fn profile_name<'a>(&'a self, profile: &'a ProfileRef) -> &'a str {
        match profile {
            ProfileRef::Rules(id) => &self.profile(*id).name,
            ProfileRef::Dynamic(name) => name,
        }
    }

    /// The rules behind a match, for the UI's explanation (none for dynamic profiles).
    pub fn matched_rules<'a>(
        &'a self,
        found: &'a ProfileMatch,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        let rules = match &found.profile {
            ProfileRef::Rules(id) => self.profile(*id).rules.as_slice(),
            ProfileRef::Dynamic(_) => &[],
        };
        found.matched.iter().filter_map(move |i| rules.get(i))
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            matched: vec![RuleMask::default(); self.profiles.len()],
            touched: Vec::new(),
        }
    }

    /// Classifies one endpoint. For many, use [`ProfileEngine::remodel`] or
    /// [`ProfileEngine::classify_with`].
    pub fn classify(&self, endpoint: &Endpoint) -> Classification {
        self.classify_with(endpoint, &mut self.scratch())
    }

    /// Classifies one endpoint against every enabled profile.
    ///
    /// An endpoint whose OS Defender reports gets its most specific dynamic profile
    /// (`⇋ <osPlatform> <version>`) with a Very High match; the general dynamic profile and the
    /// best rule-based matches are kept as runners-up. Any other endpoint gets the rule-based
    /// profile with the highest score (ties: more matched rules, then earlier profile), or
    /// none if no profile matched.
    ///
    /// # Panics
    /// If `scratch` came from another engine.
    pub fn classify_with(&self, endpoint: &Endpoint, scratch: &mut Scratch) -> Classification {
        let Scratch { matched, touched } = scratch;
        for profile in touched.drain(..) {
            matched[usize::from(profile)].clear();
        }
        let mut mark = |at: RuleRef| {
            let mask = &mut matched[usize::from(at.profile)];
            if mask.is_empty() {
                touched.push(at.profile);
            }
            mask.insert(usize::from(at.rule));
        };
        for text_set in &self.text_sets {
            text_set.attribute.any_text(endpoint, |text| {
                for i in text_set.set.matches(text).iter() {
                    mark(text_set.rules[i]);
                }
                false
            });
        }
        for open in &endpoint.open_ports {
            let start = self.ports.partition_point(|(port, _)| *port < open.port);
            for (_, at) in self.ports[start..]
                .iter()
                .take_while(|(port, _)| *port == open.port)
            {
                mark(*at);
            }
        }

        let mut candidates: Vec<ProfileMatch> = touched
            .iter()
            .filter_map(|&profile| self.score(profile, matched[usize::from(profile)]))
            .collect();
        candidates.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(b.matched.len().cmp(&a.matched.len()))
                .then_with(|| rules_id(a).cmp(&rules_id(b)))
        });

        match &endpoint.defender_os {
            Some(os) => {
                let mut considered = Vec::with_capacity(Self::MAX_CONSIDERED);
                if os.version.is_some() {
                    considered.push(dynamic_match(dynamic_profile_name(&os.platform, None)));
                }
                considered.extend(candidates);
                considered.truncate(Self::MAX_CONSIDERED);
                Classification {
                    best: Some(dynamic_match(most_specific_dynamic_profile(os))),
                    considered,
                }
            }
            None if candidates.is_empty() => Classification::default(),
            None => {
                let best = candidates.remove(0);
                candidates.truncate(Self::MAX_CONSIDERED);
                Classification {
                    best: Some(best),
                    considered: candidates,
                }
            }
        }
    }

    /// Classifies every endpoint, in order, on this thread.
    pub fn remodel(&self, endpoints: &[Endpoint]) -> Vec<Classification> {
        let mut scratch = self.scratch();
        endpoints
            .iter()
            .map(|e| self.classify_with(e, &mut scratch))
            .collect()
    }

    /// Like [`ProfileEngine::remodel`], with the endpoints split over `threads` threads
    /// (e.g. `std::thread::available_parallelism()`). Same result, same order.
    pub fn remodel_parallel(
        &self,
        endpoints: &[Endpoint],
        threads: NonZeroUsize,
    ) -> Vec<Classification> {
        let threads = threads.get().min(endpoints.len());
        if threads <= 1 {
            return self.remodel(endpoints);
        }
        let chunk = endpoints.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = endpoints
                .chunks(chunk)
                // A clone per worker: a regex's cache pool is fastest on the thread that owns it.
                .map(|part| {
                    let engine = self.clone();
                    scope.spawn(move || engine.remodel(part))
                })
                .collect();
            let mut all = Vec::with_capacity(endpoints.len());
            for worker in workers {
                // A panic here is a bug in classify_with; pass it on unchanged.
                all.extend(
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            all
        })
    }

    fn score(&self, profile: u16, matched: RuleMask) -> Option<ProfileMatch> {
        let index = usize::from(profile);
        if !matched.covers(self.required[index]) {
            return None;
        }
        let rules = &self.profiles[index].rules;
        let total: u32 = matched.iter().map(|i| u32::from(rules[i].weight)).sum();
        let score = total.min(100) as u8;
        Some(ProfileMatch {
            profile: ProfileRef::Rules(ProfileId(profile)),
            score,
            level: MatchLevel::from_score(score)?,
            matched,
        })
    }
}

fn rules_id(found: &ProfileMatch) -> Option<ProfileId> {
    match found.profile {
        ProfileRef::Rules(id) => Some(id),
        ProfileRef::Dynamic(_) => None,
    }
}

fn dynamic_match(name: String) -> ProfileMatch {
    ProfileMatch {
        profile: ProfileRef::Dynamic(name),
        score: 100,
        level: MatchLevel::VeryHigh,
        matched: RuleMask::default(),
    }
}

/// What [`super::parse_profiles`] checks, again, for profiles built in code.
fn check(profiles: &[Profile]) -> Result<(), ProfileError> {
    if profiles.len() > usize::from(u16::MAX) {
        let message = format!("more than {} profiles", u16::MAX);
        return Err(ProfileError {
            profile: None,
            name: None,
            rule: None,
            message,
        });
    }
    let mut names = HashSet::new();
    for (index, profile) in profiles.iter().enumerate() {
        let fault = |message: &str| ProfileError {
            profile: Some(index + 1),
            name: Some(profile.name.clone()),
            rule: None,
            message: message.to_owned(),
        };
        if profile.rules.len() > Profile::MAX_RULES {
            return Err(fault("a profile has at most 64 rules"));
        }
        if !names.insert(profile.name.to_lowercase()) {
            return Err(fault("the name is already used by another profile"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
