//! The devices Defender lists for a software product (List devices by software,
//! defender-api.md §4.16), read when the Software page opens the product and kept for an
//! hour. Not part of the hourly sync: a 100k tenant has tens of thousands of references for
//! each common product, and most products are never opened.
//!
//! Partial data still shows: when Defender cannot be asked (integration disabled, permission
//! missing, throttled or down through the client's retries) the last reading stands and the
//! page says why it is not fresh.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::db::software_machine::SoftwareMachineRow;
use crate::db::{self, DbError, Stores};
use crate::defender::{ClientOptions, DefenderError};
use crate::secret_box::SecretBox;

use super::defender::ClientCache;
use super::defender_settings::interactive_options;

/// How long a reading stands before the page asks Defender again: the sync's own interval.
pub const FRESH_FOR: Duration = Duration::from_secs(3600);

/// At most this many references are kept per product; the page says so when there were more.
pub const MAX_DEVICES: usize = 200_000;

/// The last reading of a product's devices, and why it is not fresh when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub read_at: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone)]
pub struct SoftwareDevices {
    inner: Arc<Inner>,
}

struct Inner {
    db: Stores,
    secrets: SecretBox,
    options: ClientOptions,
    client: ClientCache,
    /// One reading at a time in this process: two admins opening the same product wait for
    /// one answer instead of asking Defender twice.
    reading: Mutex<()>,
}

impl SoftwareDevices {
    pub fn new(db: Stores, secrets: SecretBox, options: &ClientOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                secrets,
                // Someone is waiting on the page: no long retry loops.
                options: interactive_options(options),
                client: ClientCache::default(),
                reading: Mutex::new(()),
            }),
        }
    }

    /// The product's devices as stored, read again from Defender first when the stored
    /// reading is older than [`FRESH_FOR`] (or there is none).
    pub async fn refresh_if_stale(&self, software_id: &str) -> Result<Reading, DbError> {
        let store = &self.inner.db.software_machines;
        let read_at = store.read_at(software_id).await?;
        if is_fresh(read_at.as_deref()) {
            return Ok(Reading {
                read_at,
                note: None,
            });
        }
        let _one = self.inner.reading.lock().await;
        // Another request may have read it while this one waited.
        let read_at = store.read_at(software_id).await?;
        if is_fresh(read_at.as_deref()) {
            return Ok(Reading {
                read_at,
                note: None,
            });
        }
        let stale = |why: String| {
            let note = match &read_at {
                Some(at) => format!("{why} The devices shown were read on {at}."),
                None => format!("{why} No device list has been read for this product yet."),
            };
            Ok(Reading {
                read_at: read_at.clone(),
                note: Some(note),
            })
        };
        let client = match self
            .inner
            .client
            .client(
                &*self.inner.db.integrations,
                &self.inner.secrets,
                &self.inner.options,
            )
            .await
        {
            Ok(client) => client,
            Err(e) => return stale(format!("Microsoft Defender was not asked: {e}")),
        };
        let mut pager = client.software_machines(software_id);
        let mut rows = Vec::new();
        let mut truncated = false;
        loop {
            match pager.next_page().await {
                Ok(Some(page)) => {
                    rows.extend(page.into_iter().map(|r| SoftwareMachineRow {
                        machine_id: r.id,
                        computer_dns_name: r.computer_dns_name,
                        os_platform: r.os_platform,
                        rbac_group_name: r.rbac_group_name,
                        endpoint_id: None,
                    }));
                    if rows.len() >= MAX_DEVICES {
                        rows.truncate(MAX_DEVICES);
                        truncated = true;
                        break;
                    }
                }
                Ok(None) => break,
                // Defender no longer knows the product: it runs nowhere now.
                Err(DefenderError::NotFound { .. }) => {
                    rows.clear();
                    break;
                }
                Err(e) => {
                    tracing::warn!(software_id, error = %e, "devices by software not read");
                    return stale(format!(
                        "Microsoft Defender's device list for this product could not be read: {e}."
                    ));
                }
            }
        }
        let skipped = pager.skipped().len();
        let now = db::now();
        store.replace(software_id, &rows, &now).await?;
        let mut notes = Vec::new();
        if truncated {
            notes.push(format!(
                "Microsoft Defender lists more than {MAX_DEVICES} devices; the first {MAX_DEVICES} are shown."
            ));
        }
        if skipped > 0 {
            notes.push(format!(
                "{skipped} device references from Microsoft Defender could not be read and are left out."
            ));
        }
        Ok(Reading {
            read_at: Some(now),
            note: (!notes.is_empty()).then(|| notes.join(" ")),
        })
    }
}

fn is_fresh(read_at: Option<&str>) -> bool {
    read_at.and_then(db::parse_time).is_some_and(|at| {
        let age = time::OffsetDateTime::now_utc() - at;
        age >= time::Duration::ZERO && age < FRESH_FOR
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_fresh_for_an_hour() {
        let ago = |secs: i64| {
            db::format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(secs))
        };
        assert!(is_fresh(Some(&ago(10))));
        assert!(!is_fresh(Some(&ago(3601))));
        assert!(!is_fresh(None));
        assert!(!is_fresh(Some("not a time")));
        // A clock that went back does not make a reading fresh for ever.
        assert!(!is_fresh(Some(&ago(-600))));
    }
}
