//! Starting one profile inside the collector: load its secret, build its Graph client and
//! verifier, seed its delivery statistics from the store, then start its receiver (listening
//! before anything subscribes, so Graph's validation handshake finds it), its keeper (or, for
//! an observe-only collector, a lifecycle log in its place), its poller and its order desk.
//!
//! The wiring of one profile's pipeline, nothing else: collector-wide tasks (diagnosis,
//! retention, commits, names) start in the engine. Depends on the same modules the engine does;
//! never on `sim` or `tui`.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::{Collector, CollectorOptions, ProfileKeys, SIGNAL_BUFFER};
use crate::clock::SharedClock;
use crate::collector::background;
use crate::collector::desk::ProfileDesk;
use crate::collector::facts::{self, ProfileSources};
use crate::collector::keeper::{CertificateSource, Keeper};
use crate::collector::poller::Poller;
use crate::collector::ports::ProfileLedger;
use crate::collector::setup::{CollectorError, key_paths, load_keys, receiver_config};
use crate::collector::supervise::Ends;
use crate::config::Profile;
use crate::graph::auth::TokenProvider;
use crate::graph::http::{GraphClient, RateBudgets, RetryPolicy, build_http_client};
use crate::receiver::{Receiver, Verifier};
use crate::secret::COMMAND_TIMEOUT;

impl Collector {
    /// Starts `profile`'s receiver, keeper (or lifecycle log), poller and order desk, and keeps
    /// what the collector needs of them. On error the caller stops whatever had started.
    pub(super) async fn start_profile(
        &mut self,
        profile: &Profile,
        clock: &SharedClock,
        options: &CollectorOptions,
        budgets: &RateBudgets,
    ) -> Result<(), CollectorError> {
        let name = profile.name.clone();
        let secret = profile
            .secret
            .load_off_runtime(COMMAND_TIMEOUT)
            .await
            .map_err(|source| CollectorError::Secret {
                profile: name.clone(),
                source,
            })?;
        let http = build_http_client(profile.ca_file.as_deref()).map_err(|source| {
            CollectorError::Transport {
                profile: name.clone(),
                source,
            }
        })?;
        let tokens = TokenProvider::for_profile(profile, secret, http.clone(), clock.clone())
            .map_err(|error| CollectorError::Authority {
                profile: name.clone(),
                detail: error.to_string(),
            })?;
        let graph = GraphClient::new(
            profile.cloud.graph_root(),
            tokens,
            http.clone(),
            clock.clone(),
            budgets.for_tenant(&profile.tenant),
            RetryPolicy::default(),
        );
        let keys = Arc::new(load_keys(profile, &options.data_dir, clock.clone()).await?);
        let verifier =
            Verifier::for_profile(profile, Arc::clone(&keys), http).map_err(|error| {
                CollectorError::Authority {
                    profile: name.clone(),
                    detail: error.to_string(),
                }
            })?;

        // Seeded before the receiver starts, so no notification is counted twice.
        let seeded = {
            let (store, profile, now) = (self.store.clone(), name.clone(), clock.now());
            tokio::task::spawn_blocking(move || facts::seed_delivery(&store, &profile, now)).await
        };
        let delivery = match seeded {
            Ok(Ok(stats)) => stats,
            Ok(Err(error)) => {
                tracing::warn!(profile = %name, %error, "cannot read the last hour's notifications; delivery statistics start empty");
                Default::default()
            }
            Err(error) => {
                tracing::warn!(profile = %name, %error, "reading the last hour's notifications stopped; delivery statistics start empty");
                Default::default()
            }
        };
        let delivery = Arc::new(Mutex::new(delivery));
        let (lifecycle_tx, lifecycle_rx) = mpsc::channel(SIGNAL_BUFFER);
        let receiver = Receiver::start(
            receiver_config(profile),
            Arc::new(ProfileLedger::for_profile(self.store.clone(), profile)),
            Arc::new(verifier),
            lifecycle_tx,
            clock.clone(),
            self.shutdown.child_token(),
        )
        .await
        .map_err(|source| CollectorError::Receiver {
            profile: name.clone(),
            source,
        })?;
        let profile = profile.clone();
        // A keeper with nowhere to subscribe records why and returns; that is not a death.
        let keeper_ends =
            if profile.notification_url.is_some() && profile.lifecycle_notification_url.is_some() {
                Ends::AtShutdown
            } else {
                Ends::WhenDone
            };
        tracing::info!(
            profile = %name,
            listen = %receiver.local_addr,
            notification_url = profile.notification_url.as_ref().map_or("(none)", Url::as_str),
            "receiver listening"
        );
        background::watch_processor(&mut self.tasks, &name, receiver.processor_stopped());
        background::spawn_forwarding(
            &mut self.tasks,
            &name,
            receiver.processed(),
            self.updates.clone(),
            Arc::clone(&delivery),
            self.shutdown.child_token(),
        );
        self.receivers.push(receiver);

        let (gaps_tx, gaps_rx) = mpsc::channel(SIGNAL_BUFFER);
        let keeper = Keeper::new(
            profile.clone(),
            graph.clone(),
            self.store.clone(),
            Arc::clone(&keys) as Arc<dyn CertificateSource>,
            clock.clone(),
            self.updates.clone(),
            gaps_tx,
        )
        .with_options(options.keeper.clone());
        self.keys.push(ProfileKeys {
            profile: name.clone(),
            keys: Arc::clone(&keys),
            certificate_path: key_paths(&profile, &options.data_dir).0,
            keeper: keeper.waker(),
        });
        self.sources.push(Arc::new(ProfileSources::new(
            profile.clone(),
            graph.clone(),
            Arc::clone(&keys),
            delivery,
        )));
        self.desks.push(Arc::new(ProfileDesk {
            orders: keeper.orders(),
            poller: Poller::new(
                profile.clone(),
                graph.clone(),
                self.store.clone(),
                clock.clone(),
                self.updates.clone(),
                options.poll.clone(),
            ),
            clock: clock.clone(),
            lookback: options.poll.max_lookback,
        }));
        let poller = Poller::new(
            profile,
            graph,
            self.store.clone(),
            clock.clone(),
            self.updates.clone(),
            options.poll.clone(),
        );
        if options.observe_only {
            // The keeper is not run: its order desk then answers that it is not running.
            self.tasks.spawn(
                "lifecycle log",
                Some(&name),
                Ends::AtShutdown,
                log_lifecycle(name.clone(), lifecycle_rx, self.shutdown.child_token()),
            );
        } else {
            self.tasks.spawn(
                "keeper",
                Some(&name),
                keeper_ends,
                keeper.run(lifecycle_rx, self.shutdown.child_token()),
            );
        }
        self.tasks.spawn(
            "poller",
            Some(&name),
            Ends::AtShutdown,
            poller.run(gaps_rx, self.shutdown.child_token()),
        );
        Ok(())
    }
}

/// An observe-only collector's stand-in for the keeper: lifecycle events are logged, not acted
/// on (the next full collector reconciles the subscription), until `shutdown`.
async fn log_lifecycle<T: std::fmt::Debug>(
    profile: String,
    mut events: mpsc::Receiver<T>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.recv() => match event {
                Some(event) => tracing::warn!(%profile, ?event, "observe-only collector: a lifecycle event is left to the next full collector"),
                None => shutdown.cancelled().await,
            },
        }
    }
}
