//! The store's interface: every method a caller can use, each run by the
//! backend the store was opened on (`sql/`, compiled once per backend).
//! The documentation of each is on its statements in `sql/`.

use std::collections::HashSet;

use chrono::{DateTime, Utc, Weekday};

use super::*;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, RoleId, UserId};
use crate::schedule::Schedule;
use crate::tracking::{Mark, ReactionStep, Source};

/// Writes each method of [`Store`] as a call of the same method on the
/// store's backend. A method that may change what `/prayer week` shows
/// names the scopes it changes (`=> forgets …`, any iterator of
/// [`Scope`]): once it returns, done or not, the week cache forgets them,
/// so this process never shows a week older than its own writes.
macro_rules! interface {
    ($(
        $(#[$attribute:meta])*
        $visibility:vis async fn $name:ident(&self $(, $argument:ident: $type:ty)* $(,)?) -> $output:ty
            $(=> forgets $scopes:expr)?;
    )*) => {
        impl Store {
            $(
                $(#[$attribute])*
                $visibility async fn $name(&self $(, $argument: $type)*) -> $output {
                    let output = match &self.backend {
                        Backend::Sqlite(sql) => sql.$name($($argument),*).await,
                        Backend::Postgres(sql) => sql.$name($($argument),*).await,
                    };
                    $(
                        for scope in $scopes {
                            self.cache.forget(scope);
                        }
                    )?
                    output
                }
            )*
        }
    };
}

/// The one server `guild`, as the scopes a write changes.
fn server(guild: GuildId) -> [Scope; 1] {
    [Scope::Guild(guild)]
}

/// The servers whose reactions `steps` record: every server when a step
/// does not say whose message it cleared.
fn reacted_in(steps: &[ReactionStep]) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = steps
        .iter()
        .flat_map(|step| match step {
            ReactionStep::Add(keys) | ReactionStep::Remove(keys) => {
                keys.iter().map(|key| Scope::Guild(key.guild)).collect()
            }
            ReactionStep::Clear { guild, .. } => {
                vec![guild.map_or(Scope::Shared, Scope::Guild)]
            }
        })
        .collect();
    scopes.sort_unstable_by_key(|scope| scope.column());
    scopes.dedup();
    scopes
}

impl Store {
    /// [`Store::week`] for showing to a member: from memory when this
    /// process read it since its server last changed. Never older than
    /// this process's own writes; another process's change is heard
    /// within [`FEED_INTERVAL`](super::FEED_INTERVAL) (see `cache.rs`).
    /// Posting reads [`Store::week`] itself.
    pub async fn shown_week(
        &self,
        scope: Scope,
        week: PrayerWeek,
    ) -> Result<Option<StoredWeek>, StorageError> {
        match self.cache.week(scope, week) {
            Ok(kept) => Ok(Some(kept)),
            Err(began) => {
                let stored = self.week(scope, week).await?;
                if let Some(stored) = &stored {
                    self.cache.keep_week(began, scope, week, stored);
                }
                Ok(stored)
            }
        }
    }

    /// [`Store::week_tracking`] for showing to a member, as
    /// [`Store::shown_week`] keeps it.
    pub async fn shown_week_tracking(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<WeekTracking, StorageError> {
        match self.cache.tracking(guild, week) {
            Ok(kept) => Ok(kept),
            Err(began) => {
                let tracking = self.week_tracking(guild, week).await?;
                self.cache.keep_tracking(began, guild, week, &tracking);
                Ok(tracking)
            }
        }
    }
}

interface! {
    pub async fn import_to(&self, scope: Scope, import: &BulletinImport<'_>) -> Result<ImportOutcome, StorageError> => forgets [scope];
    pub async fn week(&self, scope: Scope, week: PrayerWeek) -> Result<Option<StoredWeek>, StorageError>;
    pub async fn first_week_with_bulletin(&self, scope: Scope, from: PrayerWeek) -> Result<Option<PrayerWeek>, StorageError>;
    pub async fn regions_from(&self, scope: Scope, from: PrayerWeek) -> Result<Vec<String>, StorageError>;
    pub async fn bulletin_count(&self) -> Result<i64, StorageError>;
    pub async fn weeks_seen(&self, guild: GuildId) -> Result<Vec<PrayerWeek>, StorageError>;
    pub async fn correct_request(&self, record: &CorrectionRecord<'_>) -> Result<(), StorageError> => forgets server(record.guild);
    pub async fn request_messages(&self, guild: GuildId, request: RequestId) -> Result<Vec<PostedMessage>, StorageError>;
    pub async fn claim_unpost(&self, guild: GuildId, week: PrayerWeek, owner: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<UnpostClaim, StorageError>;
    pub async fn week_post_begun(&self, guild: GuildId, week: PrayerWeek) -> Result<bool, StorageError>;
    pub async fn week_post_unfinished(&self, guild: GuildId, week: PrayerWeek) -> Result<bool, StorageError>;
    pub async fn renew_unpost(&self, guild: GuildId, week: PrayerWeek, owner: &str, until: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn forget_posted_message(&self, guild: GuildId, message: MessageId) -> Result<(), StorageError>;
    pub async fn finish_unpost(&self, guild: GuildId, week: PrayerWeek, owner: &str, admin: UserId, detail: &str, now: DateTime<Utc>) -> Result<bool, StorageError> => forgets server(guild);
    pub async fn release_unpost(&self, guild: GuildId, week: PrayerWeek, owner: &str) -> Result<(), StorageError>;
    pub async fn post_round(&self, guild: GuildId, week: PrayerWeek) -> Result<u32, StorageError>;
    pub async fn admin_actions(&self, guild: GuildId, limit: u32) -> Result<Vec<AdminAction>, StorageError>;
    pub async fn take_identify_bucket(&self, bucket: u32, holder: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<Result<(), DateTime<Utc>>, StorageError>;
    pub async fn add_member_request(&self, new: &NewMemberRequest<'_>, limit: usize) -> Result<Option<Vec<(PrayerWeek, RequestId)>>, StorageError> => forgets server(new.guild);
    pub async fn member_request(&self, guild: GuildId, request: RequestId) -> Result<Option<MemberRequest>, StorageError>;
    pub async fn member_requests_by(&self, guild: GuildId, user: UserId) -> Result<Vec<MemberRequest>, StorageError>;
    pub async fn withdraw_member_series(&self, guild: GuildId, series: RequestId, by_admin: bool, now: DateTime<Utc>) -> Result<Vec<(ChannelId, MessageId)>, StorageError> => forgets server(guild);
    pub async fn delete_member_series(&self, guild: GuildId, series: RequestId) -> Result<(), StorageError> => forgets server(guild);
    pub async fn erase_member_requests(&self, guild: GuildId, user: UserId) -> Result<Vec<(ChannelId, MessageId)>, StorageError> => forgets server(guild);
    pub async fn set_nudge(&self, guild: GuildId, day: Option<Weekday>, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn nudge_day(&self, guild: GuildId) -> Result<Option<Weekday>, StorageError>;
    pub async fn nudge_servers(&self) -> Result<Vec<NudgeServer>, StorageError>;
    pub async fn nudge_candidates(&self, guild: GuildId, week: PrayerWeek) -> Result<Vec<(UserId, Vec<GuildRequest>)>, StorageError>;
    pub async fn take_nudge(&self, guild: GuildId, week: PrayerWeek, user: UserId, now: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn give_back_nudge(&self, guild: GuildId, week: PrayerWeek, user: UserId) -> Result<(), StorageError>;
    pub async fn lease_week_post(&self, guild: GuildId, week: PrayerWeek, bulletin_id: i64, owner: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<WeekPostClaim, StorageError>;
    pub async fn renew_week_post(&self, guild: GuildId, week: PrayerWeek, owner: &str, until: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn release_week_post(&self, guild: GuildId, week: PrayerWeek, owner: &str) -> Result<(), StorageError>;
    pub async fn week_post_lease(&self, guild: GuildId, week: PrayerWeek) -> Result<Option<DateTime<Utc>>, StorageError>;
    pub async fn record_posted_message(&self, guild: GuildId, week: PrayerWeek, message: PostedMessage, now: DateTime<Utc>) -> Result<(), StorageError>;
    pub async fn posted_messages(&self, guild: GuildId, week: PrayerWeek) -> Result<Vec<PostedMessage>, StorageError>;
    pub async fn finish_week_post(&self, guild: GuildId, week: PrayerWeek, now: DateTime<Utc>) -> Result<(), StorageError>;
    #[cfg(test)]
    pub(crate) async fn claim_week_post(&self, guild: GuildId, week: PrayerWeek, bulletin_id: i64, now: DateTime<Utc>) -> Result<WeekPostClaim, StorageError>;
    pub async fn guild_request(&self, guild: GuildId, request: RequestId) -> Result<Option<GuildRequest>, StorageError>;
    pub async fn guild_requests(&self, guild: GuildId, from: PrayerWeek, to: PrayerWeek) -> Result<Vec<GuildRequest>, StorageError>;
    pub async fn posted_in(&self, guild: GuildId, message: MessageId) -> Result<Option<PostedIn>, StorageError>;
    pub async fn request_message(&self, guild: GuildId, request: RequestId) -> Result<Option<(crate::ids::ChannelId, MessageId)>, StorageError>;
    pub async fn mark(&self, guild: GuildId, request: RequestId, user: UserId, source: Source, now: DateTime<Utc>) -> Result<bool, StorageError> => forgets server(guild);
    pub async fn unmark(&self, guild: GuildId, request: RequestId, user: UserId, source: Source) -> Result<bool, StorageError> => forgets server(guild);
    pub async fn apply_reactions(&self, steps: &[ReactionStep], now: DateTime<Utc>) -> Result<(), StorageError> => forgets reacted_in(steps);
    pub async fn forgotten_among(&self, guild: GuildId, message: MessageId, users: &[UserId]) -> Result<HashSet<UserId>, StorageError>;
    pub async fn marks(&self, guild: GuildId, requests: &[RequestId]) -> Result<Vec<Mark>, StorageError>;
    pub async fn week_tracking(&self, guild: GuildId, week: PrayerWeek) -> Result<WeekTracking, StorageError>;
    pub async fn record_praise(&self, guild: GuildId, request: Option<RequestId>, week: PrayerWeek, author: UserId, note: &str, now: DateTime<Utc>) -> Result<PraiseOutcome, StorageError> => forgets server(guild);
    pub async fn withdraw_praise(&self, guild: GuildId, request: RequestId) -> Result<(), StorageError> => forgets server(guild);
    pub async fn set_notify(&self, guild: GuildId, user: UserId, on: bool, now: DateTime<Utc>) -> Result<(), StorageError>;
    pub async fn notify_off(&self, guild: GuildId, users: &[UserId]) -> Result<HashSet<UserId>, StorageError>;
    pub async fn forget_member(&self, guild: GuildId, user: UserId) -> Result<Forgotten, StorageError> => forgets server(guild);
    pub async fn request_posts(&self, guild: GuildId, week: PrayerWeek) -> Result<Vec<(crate::ids::ChannelId, MessageId)>, StorageError>;
    pub async fn reactions_on(&self, guild: GuildId, message: MessageId) -> Result<Vec<(UserId, String)>, StorageError>;
    pub async fn note_unread(&self, guild: GuildId, message: MessageId, deleted: bool, reason: &str, now: DateTime<Utc>) -> Result<(), StorageError>;
    pub async fn clear_unread(&self, message: MessageId) -> Result<(), StorageError>;
    pub async fn unread_posts(&self, guild: GuildId, since: PrayerWeek) -> Result<Vec<UnreadPost>, StorageError>;
    pub async fn prune_read_back_notes(&self, guild: GuildId, since: PrayerWeek) -> Result<(), StorageError>;
    pub async fn mark_count_in(&self, guild: GuildId) -> Result<i64, StorageError>;
    pub async fn answered_praises(&self, guild: GuildId, from: PrayerWeek, limit: u32) -> Result<Vec<AnsweredPraise>, StorageError>;
    pub async fn set_recap_day(&self, guild: GuildId, weekday: Option<Weekday>, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn recap_day(&self, guild: GuildId) -> Result<Option<Weekday>, StorageError>;
    pub async fn recap_settings(&self) -> Result<Vec<RecapSetting>, StorageError>;
    pub async fn take_recap(&self, guild: GuildId, week: PrayerWeek, now: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn give_back_recap(&self, guild: GuildId, week: PrayerWeek) -> Result<(), StorageError>;
    pub async fn schedule(&self, guild: GuildId) -> Result<Schedule, StorageError>;
    pub async fn set_schedule(&self, guild: GuildId, schedule: &Schedule, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn schedule_record(&self, guild: GuildId) -> Result<Option<(Schedule, Option<DateTime<Utc>>)>, StorageError>;
    pub async fn change_schedule(&self, guild: GuildId, schedule: &Schedule, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn schedules(&self) -> Result<Vec<(GuildId, Schedule)>, StorageError>;
    pub async fn week_states(&self, wanted: &[(GuildId, PrayerWeek)]) -> Result<Vec<WeekState>, StorageError>;
    pub async fn record_post_problem(&self, guild: GuildId, week: PrayerWeek, problem: &str, now: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn take_empty_week_notice(&self, guild: GuildId, week: PrayerWeek, now: DateTime<Utc>) -> Result<bool, StorageError>;
    pub async fn give_back_empty_week_notice(&self, guild: GuildId, week: PrayerWeek) -> Result<(), StorageError>;
    pub async fn problem_announced(&self, guild: GuildId, week: PrayerWeek, now: DateTime<Utc>) -> Result<(), StorageError>;
    pub async fn clear_post_problem(&self, guild: GuildId, week: PrayerWeek) -> Result<(), StorageError>;
    pub async fn post_problem(&self, guild: GuildId) -> Result<Option<PostProblem>, StorageError>;
    pub async fn last_post(&self, guild: GuildId) -> Result<Option<LastPost>, StorageError>;
    pub async fn channel_settings(&self, guild: GuildId) -> Result<ChannelSettings, StorageError>;
    pub async fn set_default_channel(&self, guild: GuildId, channel: ChannelId, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn set_ping_role(&self, guild: GuildId, role: Option<RoleId>, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn set_notice_channel(&self, guild: GuildId, channel: Option<ChannelId>, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn set_threads(&self, guild: GuildId, threads: bool, now: DateTime<Utc>) -> Result<(), StorageError> => forgets server(guild);
    pub async fn set_region_channel(&self, guild: GuildId, region: &str, channel: ChannelId) -> Result<(), StorageError>;
}
