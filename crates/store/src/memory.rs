//! `MemoryStore`: the [`HistoryStore`] in memory, for tests and for integrators who keep
//! history elsewhere and want a model to test their own backend against. Same rules as
//! the SQLite store (unique labels, content addressing, selectors, events); nothing
//! survives the process.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::HistoryStore;
use crate::error::StoreError;
use crate::types::{
    Event, EventFilter, EventId, NewEvent, NewRevision, Revision, RevisionId, RevisionInfo, Selector,
    part_changes,
};

/// The location a [`MemoryStore`] names in its errors.
const LOCATION: &str = "<memory>";

type Digest256 = [u8; 32];

/// History kept in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    revisions: Vec<(RevisionInfo, Value, BTreeMap<String, Digest256>)>,
    blobs: HashMap<Digest256, Vec<u8>>,
    events: Vec<Event>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn file() -> &'static Path {
        Path::new(LOCATION)
    }

    fn resolve(&self, selector: &Selector) -> Option<usize> {
        let mut infos = self.revisions.iter().map(|(info, _, _)| info).enumerate();
        match selector {
            Selector::Id(id) => infos.find(|(_, info)| info.id == *id).map(|(i, _)| i),
            Selector::Label(label) => infos.find(|(_, info)| info.label == *label).map(|(i, _)| i),
            Selector::Latest => self.revisions.len().checked_sub(1),
            Selector::AtOrBefore(at) => infos
                .filter(|(_, info)| info.saved_at <= *at)
                .max_by_key(|(_, info)| (info.saved_at, info.id))
                .map(|(i, _)| i),
        }
    }

    fn not_found(selector: &Selector) -> StoreError {
        StoreError::NotFound {
            file: Self::file().to_path_buf(),
            selector: selector.to_string(),
        }
    }
}

impl HistoryStore for MemoryStore {
    fn save(&mut self, revision: &NewRevision) -> Result<RevisionId, StoreError> {
        revision.validate(Self::file())?;
        if let Some((info, _, _)) = self
            .revisions
            .iter()
            .find(|(info, _, _)| info.label == revision.label)
        {
            return Err(StoreError::DuplicateLabel {
                file: Self::file().to_path_buf(),
                label: revision.label.clone(),
                existing: info.id,
            });
        }
        let (mut total_bytes, mut new_bytes) = (0u64, 0u64);
        let mut digests = BTreeMap::new();
        for (name, bytes) in &revision.parts {
            let digest: Digest256 = Sha256::digest(bytes).into();
            total_bytes += bytes.len() as u64;
            if let std::collections::hash_map::Entry::Vacant(entry) = self.blobs.entry(digest) {
                new_bytes += bytes.len() as u64;
                entry.insert(bytes.clone());
            }
            digests.insert(name.clone(), digest);
        }
        let empty = BTreeMap::new();
        let previous = self.revisions.last().map_or(&empty, |(_, _, parts)| parts);
        let parts_changed = part_changes(previous, &digests).len() as u64;
        let id = RevisionId(self.revisions.len() as i64 + 1);
        let info = RevisionInfo {
            id,
            label: revision.label.clone(),
            saved_at: revision.saved_at,
            author: revision.author.clone(),
            message: revision.message.clone(),
            part_count: digests.len() as u64,
            total_bytes,
            new_bytes,
            stored_bytes: new_bytes,
            parts_changed,
        };
        self.revisions.push((info, revision.headline.clone(), digests));
        Ok(id)
    }

    fn list(&self) -> Result<Vec<RevisionInfo>, StoreError> {
        Ok(self.revisions.iter().map(|(info, _, _)| info.clone()).collect())
    }

    fn info(&self, selector: &Selector) -> Result<RevisionInfo, StoreError> {
        let index = self.resolve(selector).ok_or_else(|| Self::not_found(selector))?;
        Ok(self.revisions[index].0.clone())
    }

    fn get(&self, selector: &Selector) -> Result<Revision, StoreError> {
        let index = self.resolve(selector).ok_or_else(|| Self::not_found(selector))?;
        let (info, headline, digests) = &self.revisions[index];
        let parts = digests
            .iter()
            .map(|(name, digest)| (name.clone(), self.blobs.get(digest).cloned().unwrap_or_default()))
            .collect();
        Ok(Revision {
            info: info.clone(),
            headline: headline.clone(),
            parts,
        })
    }

    fn append_event(&mut self, event: &NewEvent) -> Result<EventId, StoreError> {
        event.validate(Self::file())?;
        let id = EventId(self.events.len() as i64 + 1);
        self.events.push(Event {
            id,
            at: event.at,
            kind: event.kind.clone(),
            subject: event.subject.clone(),
            author: event.author.clone(),
            payload: event.payload.clone(),
        });
        Ok(id)
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        Ok(self
            .events
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect())
    }
}
