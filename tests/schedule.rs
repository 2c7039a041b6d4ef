//! The Monday posts through the fake Discord: the real bot (`prayer-bot
//! run`) with its clock started at a chosen instant
//! (`PRAYER_BOT_START_TIME`), so "Monday 08:59:56 in New York" is a few
//! seconds away. The bulletin is for the week of Monday 23 November 2026.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Weekday};
use common::{World, instant, until};
use fake_discord::{
    CommandOption, FakeDiscord, FakeUser, Invoker, ScriptedResponse, SentInteraction,
};
use prayer_bot::ids::{ChannelId, GuildId};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::Store;

const WEEK: &str = "2026-11-23";

/// The server's channels beside the default one, for a test's `prepare`.
#[derive(Debug, Clone, Copy)]
struct Others {
    /// Where the bot may not post.
    locked: u64,
    /// The Latin America region's channel.
    latin: u64,
}

struct Bot {
    fake: FakeDiscord,
    world: World,
    /// When the bot process was started (its clock reads the start time
    /// then).
    started: Instant,
    db: PathBuf,
    clock: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// Imports the example bulletin for the week of 23 November, lets
/// `prepare` set the server up in the database, then starts the bot with
/// its clock at `clock`.
async fn start_at<F, Fut>(clock: &str, prepare: F) -> Bot
where
    F: FnOnce(Store, u64, u64, Others) -> Fut,
    Fut: Future<Output = ()>,
{
    start_scripted(clock, prepare, |_, _| {}).await
}

/// As [`start_at`], with `script` run on the fake (and the default
/// channel's id) before the bot starts.
async fn start_scripted<F, Fut>(
    clock: &str,
    prepare: F,
    script: impl FnOnce(&FakeDiscord, u64),
) -> Bot
where
    F: FnOnce(Store, u64, u64, Others) -> Fut,
    Fut: Future<Output = ()>,
{
    start_with(clock, &[], prepare, script).await
}

/// As [`start_scripted`], with more bulletins imported first: (example
/// file, week).
async fn start_with<F, Fut>(
    clock: &str,
    more: &[(&str, &str)],
    prepare: F,
    script: impl FnOnce(&FakeDiscord, u64),
) -> Bot
where
    F: FnOnce(Store, u64, u64, Others) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    for (file, week) in [("examples/week-1.txt", WEEK)].iter().chain(more) {
        common::import(&db, &common::project(file), week);
    }

    let fake = FakeDiscord::start_with(fake_discord::Options {
        enforce_limits: true,
        ..fake_discord::Options::default()
    })
    .await;
    let world = World::add_to(&fake);
    let store = common::open_store(&db).await;
    prepare(
        store.clone(),
        world.guild,
        world.general.id,
        Others {
            locked: world.locked.id,
            latin: world.latin.id,
        },
    )
    .await;
    store.close().await;
    script(&fake, world.general.id);

    let started = Instant::now();
    let child = common::spawn_bot(&fake, &db, clock, &dir.path().join("bot.log"));
    common::registered(&fake).await;
    Bot {
        fake,
        world,
        started,
        db,
        clock: clock.to_owned(),
        child,
        _dir: dir,
    }
}

/// The server posts to `general`, on `schedule`.
async fn scheduled(store: Store, guild: u64, general: u64, schedule: Schedule) {
    common::scheduled(&store, guild, general, schedule).await;
}

/// The default schedule, posting only by hand (`/prayer post`).
fn by_hand() -> Schedule {
    Schedule {
        auto: false,
        ..Schedule::default()
    }
}

fn new_york_monday_nine() -> Schedule {
    Schedule {
        weekday: Weekday::Mon,
        time: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
        zone: chrono_tz::America::New_York,
        auto: true,
    }
}

impl Bot {
    fn as_admin(&self) -> Invoker {
        self.world.as_admin()
    }

    fn prayer(&self, sub: &str, options: Vec<CommandOption>) -> SentInteraction {
        common::prayer(&self.fake, sub, options, self.as_admin())
    }

    /// The text of the (possibly deferred) answer to `sent`.
    async fn answer(&self, sent: &SentInteraction) -> String {
        common::answer(&self.fake, sent).await.text
    }

    /// Messages the bot created in `channel`.
    fn sent_to(&self, channel: u64) -> Vec<String> {
        common::sent_to(&self.fake, channel)
    }

    /// Waits until `channel` has at least `count` messages from the bot.
    async fn wait_for_posts(&self, channel: u64, count: usize) -> Vec<String> {
        until(&format!("{count} messages"), || async move {
            let sent = self.sent_to(channel);
            (sent.len() >= count).then_some(sent)
        })
        .await
    }

    /// Waits until `/prayer status` says the post of the week of
    /// 2026-11-23 finished.
    async fn finished(&self) {
        until("the post finishes", || async {
            let status = self.answer(&self.prayer("status", vec![])).await;
            (status.contains("**Last post.** The week of 2026-11-23:")
                && status.contains("finished <t:"))
            .then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn the_week_is_posted_at_the_servers_local_time_and_not_before() {
    // 13:59:56 UTC is 08:59:56 in New York: the post is due in 4 seconds.
    let bot = start_at("2026-11-23T13:59:56Z", |store, guild, general, _| {
        scheduled(store, guild, general, new_york_monday_nine())
    })
    .await;
    let general = bot.world.general.id;
    assert_eq!(
        bot.sent_to(general),
        Vec::<String>::new(),
        "nothing before 09:00"
    );
    let posts = bot.wait_for_posts(general, 2).await;
    let waited = bot.started.elapsed();
    assert!(
        waited >= Duration::from_millis(3500),
        "posted {waited:?} after start, before 09:00 New York time"
    );
    assert!(
        posts[0].contains("week of Monday 23 November 2026"),
        "{}",
        posts[0]
    );
    // Once: a later look finds nothing new.
    bot.finished().await;
    let total = bot.sent_to(general).len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(bot.sent_to(general).len(), total, "posted once");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_takes_a_weekday_time_and_zone_and_answers_with_the_next_post_in_discord_time() {
    let bot = start_at("2026-11-23T12:00:00Z", |_, _, _, _| async {}).await;
    let general = &bot.world.general;
    let sent = bot.prayer(
        "setup",
        vec![
            CommandOption::channel("channel", general),
            CommandOption::integer("weekday", 2), // poise sends choices as their index
            CommandOption::string("time", "6:30 pm"),
            CommandOption::string("timezone", "europe/london"),
        ],
    );
    let answer = bot.answer(&sent).await;
    let next = instant("2026-11-25T18:30:00Z").timestamp();
    assert!(
        answer.contains(&format!("<t:{next}:F> (<t:{next}:R>)")),
        "{answer}"
    );
    assert!(
        answer.contains("Wednesdays at 18:30 (Europe/London)"),
        "{answer}"
    );

    let sent = bot.prayer(
        "setup",
        vec![
            CommandOption::channel("channel", general),
            CommandOption::string("timezone", "Europe/Londn"),
        ],
    );
    let refused = bot.answer(&sent).await;
    assert!(refused.contains("`Europe/London`"), "{refused}");
    assert!(refused.ends_with("Nothing was changed."), "{refused}");

    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status.contains("Wednesdays at 18:30 (Europe/London)"),
        "the refusal changed nothing: {status}"
    );
    assert!(status.contains("Problems.** None"), "{status}");
    assert!(
        bot.sent_to(general.id).is_empty(),
        "not due before Wednesday"
    );

    // Moved to a time already past this week, before the week was due: it
    // is not posted by itself, and the answer says how to post it now.
    let sent = bot.prayer(
        "setup",
        vec![
            CommandOption::integer("weekday", 0),
            CommandOption::string("time", "09:00"),
            CommandOption::string("timezone", "UTC"),
        ],
    );
    let answer = bot.answer(&sent).await;
    assert!(!answer.contains("being posted now"), "{answer}");
    assert!(
        answer.contains("so that week is not posted by itself: to post it now, run `/prayer post week:2026-11-23`."),
        "{answer}"
    );
    assert!(!answer.contains("⚠️"), "UTC is fine: {answer}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        bot.sent_to(general.id).is_empty(),
        "nothing posted by itself"
    );
    let posted = bot
        .answer(&bot.prayer("post", vec![CommandOption::string("week", WEEK)]))
        .await;
    assert!(
        posted.starts_with("Posted the week of 2026-11-23"),
        "{posted}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_zone_change_after_this_weeks_post_never_posts_last_week() {
    // Monday 09:30 UTC: this week (23 November) is posted at once; last
    // week (16 November) has a bulletin too, never posted here.
    let bot = start_with(
        "2026-11-23T09:30:00Z",
        &[("examples/week-3.txt", "2026-11-16")],
        |store, guild, general, _| scheduled(store, guild, general, Schedule::default()),
        |_, _| {},
    )
    .await;
    let general = bot.world.general.id;
    let posts = bot.wait_for_posts(general, 2).await;
    assert!(posts[0].contains("23 November 2026"), "{}", posts[0]);
    bot.finished().await;
    let before = bot.sent_to(general).len();
    // In Etc/GMT+12 it is still Sunday 22 November: last week is running.
    let answer = bot
        .answer(&bot.prayer(
            "setup",
            vec![
                // The channel again, as main required: only the zone changes.
                CommandOption::channel("channel", &bot.world.general),
                CommandOption::string("timezone", "Etc/GMT+12"),
            ],
        ))
        .await;
    assert!(answer.contains("(Etc/GMT+12)"), "{answer}");
    assert!(
        answer.contains(
            "⚠️ `Etc/GMT+12` is a fixed offset (UTC−12:00) that never changes for summer time"
        ),
        "{answer}"
    );
    assert!(!answer.contains("being posted now"), "{answer}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = bot.sent_to(general);
    assert_eq!(after.len(), before, "posted again: {:#?}", &after[before..]);
    assert!(
        after.iter().all(|m| !m.contains("16 November")),
        "last week was posted after this week"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_first_setup_on_saturday_does_not_post_the_week_by_itself() {
    let bot = start_at("2026-11-28T12:00:00Z", |_, _, _, _| async {}).await;
    let general = &bot.world.general;
    // Without a channel, the first setup is refused in words.
    let refused = bot
        .answer(&bot.prayer("setup", vec![CommandOption::string("time", "10:00")]))
        .await;
    assert_eq!(
        refused,
        "The first setup needs a channel for the posts: run `/prayer setup channel:#channel` (you can give the weekday, time and time zone at the same time). Nothing was changed."
    );
    let answer = bot
        .answer(&bot.prayer("setup", vec![CommandOption::channel("channel", general)]))
        .await;
    assert!(
        answer.contains("The post time of the week of 2026-11-23 had already passed when this schedule was set, so that week is not posted by itself: to post it now, run `/prayer post week:2026-11-23`."),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(bot.sent_to(general.id), Vec::<String>::new());
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_without_a_channel_changes_only_what_is_given_once_a_channel_is_set() {
    let bot = start_at("2026-11-24T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, by_hand())
    })
    .await;
    let general = bot.world.general.id;
    let answer = bot
        .answer(&bot.prayer(
            "setup",
            vec![
                CommandOption::string("time", "7:30 pm"),
                CommandOption::string("timezone", "EST"),
            ],
        ))
        .await;
    assert!(answer.contains("Mondays at 19:30 (EST)"), "{answer}");
    assert!(answer.contains("`America/New_York`"), "{answer}");
    // Nothing given: the settings as they are.
    let shown = bot.answer(&bot.prayer("setup", vec![])).await;
    assert!(
        shown.starts_with(&format!("Weekly posts go to <#{general}>.")),
        "{shown}"
    );
    assert!(shown.contains("Mondays at 19:30 (EST)"), "{shown}");
    assert!(shown.ends_with("Nothing was changed."), "{shown}");
    assert!(!shown.contains("⚠️"), "{shown}");
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(status.contains("Mondays at 19:30 (EST)"), "{status}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn post_with_no_week_posts_this_week_or_names_the_week_that_has_a_bulletin() {
    // Tuesday 17 November: this week has no bulletin; the next one has.
    let bot = start_at("2026-11-17T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, by_hand())
    })
    .await;
    let refused = bot.answer(&bot.prayer("post", vec![])).await;
    assert_eq!(
        refused,
        "This week (2026-11-16) has no bulletin; the next with one is 2026-11-23: run `/prayer post week:2026-11-23`, or import this week's with `/prayer import`. Nothing was posted."
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bot.sent_to(bot.world.general.id), Vec::<String>::new());
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_sunday_post_carries_the_week_that_begins_the_next_day() {
    // Sunday 22 November 17:59:57 UTC: the post of the week of Monday 23
    // November is due in 3 seconds.
    let sunday_six = Schedule {
        weekday: Weekday::Sun,
        time: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        ..Schedule::default()
    };
    let bot = start_at("2026-11-22T17:59:57Z", move |store, guild, general, _| {
        scheduled(store, guild, general, sunday_six)
    })
    .await;
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status.contains(
            "Posts go out Sundays at 18:00 (UTC), each with the week that begins the next Monday."
        ),
        "{status}"
    );
    assert!(status.contains("the week of 2026-11-23."), "{status}");
    assert!(status.contains("Problems.** None"), "{status}");
    let posts = bot.wait_for_posts(bot.world.general.id, 2).await;
    assert!(
        posts[0].contains("week of Monday 23 November 2026"),
        "{}",
        posts[0]
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn on_saturday_status_asks_for_next_weeks_bulletin() {
    let bot = start_at("2026-11-28T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, by_hand())
    })
    .await;
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status
            .contains("No bulletin for the week of 2026-11-30: import one with `/prayer import`."),
        "{status}"
    );
    assert!(!status.contains("2026-11-23:"), "{status}");
}

#[tokio::test]
async fn a_bot_down_over_post_time_and_back_on_wednesday_posts_the_week() {
    let bot = start_at("2026-11-25T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, Schedule::default())
    })
    .await;
    let posts = bot.wait_for_posts(bot.world.general.id, 2).await;
    assert!(
        posts[0].contains("week of Monday 23 November 2026"),
        "{}",
        posts[0]
    );
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(status.contains("The week of 2026-11-23"), "{status}");
}

#[tokio::test]
async fn a_bot_back_the_next_week_never_posts_the_week_that_is_over() {
    let bot = start_at("2026-11-30T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, Schedule::default())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(bot.sent_to(bot.world.general.id), Vec::<String>::new());
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status.contains("No bulletin for the week of 2026-11-30"),
        "{status}"
    );
}

#[tokio::test]
async fn the_admins_hear_a_day_before_that_the_coming_week_has_no_bulletin() {
    // Sunday morning: Monday's post carries the week of 2026-11-30, which
    // has no bulletin (only 2026-11-23's was imported).
    let bot = start_at("2026-11-29T10:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, Schedule::default())
    })
    .await;
    let general = bot.world.general.id;
    let notices = until("the admins are told", || async {
        let notices: Vec<String> = bot
            .sent_to(general)
            .into_iter()
            .filter(|m| m.starts_with("⚠️"))
            .collect();
        (!notices.is_empty()).then_some(notices)
    })
    .await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("The week of 2026-11-30 has no bulletin yet")
            && notices[0].contains("/prayer import"),
        "{}",
        notices[0]
    );
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status.contains("No bulletin for the week of 2026-11-30"),
        "{status}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_channel_the_bot_may_not_post_in_is_reported_once_where_admins_see_it() {
    let bot = start_at(
        "2026-11-23T09:30:00Z",
        |store, guild, general, others: Others| async move {
            let locked = others.locked;
            scheduled(store.clone(), guild, general, Schedule::default()).await;
            store
                .set_region_channel(
                    GuildId::try_new(guild).expect("ids are not 0"),
                    "Latin America",
                    ChannelId::try_new(locked).expect("ids are not 0"),
                )
                .await
                .expect("the region is routed");
        },
    )
    .await;
    let general = bot.world.general.id;
    let reports = until("the admins are told", || async {
        let reports: Vec<String> = bot
            .sent_to(general)
            .into_iter()
            .filter(|m| m.starts_with("⚠️"))
            .collect();
        (!reports.is_empty()).then_some(reports)
    })
    .await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("week of 2026-11-23"), "{}", reports[0]);
    assert!(reports[0].contains("/prayer status"), "{}", reports[0]);
    assert!(bot.sent_to(bot.world.locked.id).is_empty());
    let status = bot.answer(&bot.prayer("status", vec![])).await;
    assert!(
        status.contains(&format!("In <#{}> I am missing", bot.world.locked.id)),
        "{status}"
    );
    assert!(
        status.contains("The post of the week of 2026-11-23 failed"),
        "{status}"
    );
    // Told once, even as the post is tried again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = bot
        .sent_to(general)
        .into_iter()
        .filter(|m| m.starts_with("⚠️"))
        .count();
    assert_eq!(again, 1);
}

#[tokio::test]
async fn reactions_made_while_the_bot_was_away_are_read_back_on_a_new_session() {
    let bot = start_at("2026-11-25T12:00:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, Schedule::default())
    })
    .await;
    let general = bot.world.general.id;
    bot.wait_for_posts(general, 3).await;
    // Let the post finish (its last reaction) before reading it back.
    bot.finished().await;
    let requests = common::request_messages(&bot.fake, general);
    let (message, request) = *requests.first().expect("a request's message");

    // A member's 🙏🏽, recorded while connected.
    let early = FakeUser::new(bot.fake.next_id(), "early");
    let event = fake_discord::ReactionEvent::new(early.id, general, message, "🙏🏽")
        .in_guild(bot.world.guild);
    bot.fake
        .send_reaction_add(&event)
        .expect("the reaction is sent");
    let who = |text: &str, user: u64| text.contains(&format!("<@{user}>"));
    let ask = || {
        bot.prayer(
            "who",
            vec![CommandOption::string("request", request.to_string())],
        )
    };
    until("the reaction is recorded", || async {
        who(&bot.answer(&ask()).await, early.id).then_some(())
    })
    .await;

    // While the bot cannot hear: another member adds 🙏, the first removes
    // theirs; Discord sends the bot neither event.
    let late = FakeUser::new(bot.fake.next_id(), "late");
    bot.fake
        .set_reactions(message, "🙏", &[bot.fake.bot_user(), late.clone()]);
    bot.fake.set_reactions(message, "🙏🏽", &[]);
    // The session cannot be resumed: the bot identifies afresh.
    bot.fake
        .close_gateway(4009, "Session timed out")
        .expect("the gateway closes");
    // Commands sent before the new session is up would be lost with the
    // old one.
    until("the bot identifies again", || async {
        (bot.fake.identify_count() >= 2 && bot.fake.is_connected()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    until("the reactions made meanwhile are read back", || async {
        let text = bot.answer(&ask()).await;
        (who(&text, late.id) && !who(&text, early.id)).then_some(())
    })
    .await;
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn two_bot_processes_on_one_database_post_the_week_once() {
    // Both come up after the post time: both find the week due at once.
    let bot = start_at("2026-11-23T09:30:00Z", |store, guild, general, _| {
        scheduled(store, guild, general, Schedule::default())
    })
    .await;
    let log = bot.db.with_file_name("second.log");
    let _second = common::spawn_bot(&bot.fake, &bot.db, &bot.clock, &log);
    let general = bot.world.general.id;
    bot.wait_for_posts(general, 3).await;
    // The second process is connected, and has had time to try.
    until("the second process connects", || async {
        (bot.fake.identify_count() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = bot.sent_to(general);
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        sent.len(),
        "a message was posted twice: {sent:#?}"
    );
    let requests = common::request_messages(&bot.fake, general);
    assert!(requests.len() >= 2, "the week was posted: {sent:#?}");
    let mut ids: Vec<i64> = requests.iter().map(|(_, r)| *r).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), requests.len(), "a request was posted twice");
}

/// The contents the bot has created in `channel`, in order.
fn contents(fake: &FakeDiscord, channel: u64) -> Vec<String> {
    fake.messages_in(channel)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until `channel` holds `count` messages and stays so for a moment.
async fn settled(fake: &FakeDiscord, channel: u64, count: usize) -> Vec<String> {
    until(&format!("{count} messages"), || async {
        (contents(fake, channel).len() >= count).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    contents(fake, channel)
}

#[tokio::test]
async fn a_bot_killed_after_any_number_of_messages_posts_each_exactly_once_after_restart() {
    const AT: &str = "2026-11-25T12:00:00Z";
    // Ten minutes on: the dead run's lease (two minutes) has run out.
    const LATER: &str = "2026-11-25T12:10:00Z";
    const MESSAGES: &str = "/channels/*/messages$";
    // A whole post, undisturbed, to learn its messages.
    let whole = {
        let bot = start_at(AT, |store, guild, general, _| {
            scheduled(store, guild, general, Schedule::default())
        })
        .await;
        bot.wait_for_posts(bot.world.general.id, 1).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        contents(&bot.fake, bot.world.general.id)
    };
    let n = whole.len();
    assert!(n >= 5, "{whole:#?}");
    for k in 0..n {
        // The first k messages go through at once; the next is held, and
        // the bot is killed while it waits for Discord's answer.
        let mut bot = start_scripted(
            AT,
            |store, guild, general, _| scheduled(store, guild, general, Schedule::default()),
            |fake, _| {
                if k > 0 {
                    fake.script(ScriptedResponse::slow("POST", MESSAGES, Duration::ZERO).times(k));
                }
                fake.script(ScriptedResponse::slow(
                    "POST",
                    MESSAGES,
                    Duration::from_secs(3),
                ));
            },
        )
        .await;
        let general = bot.world.general.id;
        until(&format!("k = {k}: the first messages"), || async {
            (bot.sent_to(general).len() >= k).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        bot.child.start_kill().expect("the bot is killed");
        let _ = bot.child.wait().await;

        let log = bot.db.with_file_name("restarted.log");
        let _restarted = common::spawn_bot(&bot.fake, &bot.db, LATER, &log);
        let after = settled(&bot.fake, general, n).await;
        assert_eq!(after, whole, "k = {k}: each message once, in order");
    }
}

#[tokio::test]
async fn a_message_discord_accepted_just_before_a_crash_is_not_sent_again() {
    const AT: &str = "2026-11-25T12:00:00Z";
    // The whole post, undisturbed, for its messages.
    let whole = {
        let bot = start_at(AT, |store, guild, general, _| {
            scheduled(store, guild, general, Schedule::default())
        })
        .await;
        bot.wait_for_posts(bot.world.general.id, 1).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        contents(&bot.fake, bot.world.general.id)
    };
    // A run began the post, Discord accepted its header, and the process
    // died before recording it; its lease ran out long ago.
    let header = whole[0].clone();
    let bot = start_scripted(
        AT,
        |store, guild, general, _| async move {
            scheduled(store.clone(), guild, general, Schedule::default()).await;
            let week = WEEK.parse().expect("a week");
            let stored = store
                .week(
                    prayer_bot::storage::Scope::Guild(
                        GuildId::try_new(guild).expect("ids are not 0"),
                    ),
                    week,
                )
                .await
                .expect("readable")
                .expect("the bulletin");
            let started = instant("2026-11-25T11:50:00Z");
            store
                .lease_week_post(
                    GuildId::try_new(guild).expect("ids are not 0"),
                    week,
                    stored.bulletin_id,
                    "a run that died",
                    started + chrono::TimeDelta::minutes(2),
                    started,
                )
                .await
                .expect("the dead run's lease");
        },
        |fake, general| {
            // Stored as the bot's; no gateway to tell yet.
            let _ = fake.send_message_create(general, &fake.bot_user(), &header);
        },
    )
    .await;
    let after = settled(&bot.fake, bot.world.general.id, whole.len()).await;
    assert_eq!(after, whole, "the header once, then the rest");
}

/// Members of the nudge test, by id: none is in `World`.
const ANA: u64 = 900_001;
const BEN: u64 = 900_002;
const CAL: u64 = 900_003;
const DEB: u64 = 900_004;

/// Thursday's nudge for the week of 2026-11-23: Ana committed to two
/// requests and prayed for one; Ben prayed for all he committed to; Cal
/// turned notices off; Deb's direct messages are closed.
async fn nudge_week(store: Store, guild: u64, general: u64) {
    use prayer_bot::ids::UserId;
    use prayer_bot::tracking::Source;
    scheduled(store.clone(), guild, general, by_hand()).await;
    let guild = GuildId::try_new(guild).expect("ids are not 0");
    let set = instant("2026-11-20T00:00:00Z");
    store
        .set_nudge(guild, Some(Weekday::Thu), set)
        .await
        .expect("the nudge is set");
    let week = store
        .week(
            prayer_bot::storage::Scope::Guild(guild),
            WEEK.parse().expect("a week"),
        )
        .await
        .expect("the week reads")
        .expect("the week");
    let (first, second) = (week.request_ids[0], week.request_ids[1]);
    let user = |id: u64| UserId::try_new(id).expect("ids are not 0");
    let marks = [
        (ANA, first, Source::Commit),
        (ANA, first, Source::Prayed),
        (ANA, second, Source::Commit),
        (BEN, first, Source::Commit),
        (BEN, first, Source::Prayed),
        (CAL, second, Source::Commit),
        (DEB, second, Source::Commit),
    ];
    for (member, request, source) in marks {
        store
            .mark(guild, request, user(member), source, set)
            .await
            .expect("marked");
    }
    store
        .set_notify(guild, user(CAL), false, set)
        .await
        .expect("notify off");
}

#[tokio::test]
async fn the_mid_week_nudge_reaches_each_member_with_open_commitments_once_across_restarts() {
    let bot = start_scripted(
        "2026-11-26T09:00:05Z",
        |store, guild, general, _| nudge_week(store, guild, general),
        |fake, _| fake.close_dms(DEB),
    )
    .await;
    let ana_dm = until("Ana is reminded", || async {
        let channel = bot.fake.dm_channel(ANA)?;
        (!bot.fake.messages_in(channel).is_empty()).then_some(channel)
    })
    .await;
    let reminder = bot.fake.messages_in(ana_dm)[0].clone();
    let content = reminder["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with("🙏 **A mid-week reminder** for the prayer week of 2026-11-23")
            && content.matches("\n• ").count() == 1,
        "only the commitment she has not prayed for: {content}"
    );
    let custom_id = reminder["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        custom_id.starts_with(&format!("prayer:nudged:{}:", bot.world.guild)),
        "{reminder}"
    );
    // Let two more processes start at the same instant on the same
    // database, after the first is stopped: no one is reminded twice.
    let mut first = bot.child;
    first.start_kill().expect("the bot is stopped");
    let _ = first.wait().await;
    let logs = [
        bot.db.with_file_name("second.log"),
        bot.db.with_file_name("third.log"),
    ];
    let _others: Vec<_> = logs
        .iter()
        .map(|log| common::spawn_bot(&bot.fake, &bot.db, &bot.clock, log))
        .collect();
    until("both processes connect", || async {
        (bot.fake.identify_count() >= 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        bot.fake.messages_in(ana_dm).len(),
        1,
        "Ana is reminded once"
    );
    for (member, why) in [(BEN, "prayed for all"), (CAL, "notices off")] {
        let channel = bot.fake.dm_channel(member);
        assert!(
            channel.is_none_or(|c| bot.fake.messages_in(c).is_empty()),
            "{why}"
        );
    }
    let deb = bot.fake.dm_channel(DEB).expect("a DM was tried");
    let tried = bot
        .fake
        .requests_matching("POST", &format!("/channels/{deb}/messages$"));
    assert_eq!(tried.len(), 1, "closed DMs are tried once, not retried");
    // Prayed, pressed in the direct message, records the prayer.
    let ana = FakeUser::new(ANA, "ana");
    let pressed = bot
        .fake
        .send_button(
            fake_discord::ComponentPress::button(custom_id.clone()),
            Invoker::in_dm(ana, ana_dm),
        )
        .expect("pressed");
    let answer = common::answer(&bot.fake, &pressed).await.text;
    assert!(answer.starts_with("Recorded: you prayed for"), "{answer}");
    // The same button pressed by someone it was not for records nothing.
    let ben = FakeUser::new(BEN, "ben");
    let forged = bot
        .fake
        .send_button(
            fake_discord::ComponentPress::button(custom_id),
            Invoker::in_dm(ben, 1),
        )
        .expect("pressed");
    let answer = common::answer(&bot.fake, &forged).await.text;
    assert!(
        answer.starts_with("This reminder is not about a commitment of yours"),
        "{answer}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn the_admins_hear_in_the_notices_channel_they_chose() {
    let prepare = |store: Store, guild, general, others: Others| async move {
        scheduled(store.clone(), guild, general, Schedule::default()).await;
        store
            .set_notice_channel(
                GuildId::try_new(guild).expect("ids are not 0"),
                Some(ChannelId::try_new(others.latin).expect("ids are not 0")),
                instant("2026-11-20T00:00:00Z"),
            )
            .await
            .expect("set");
    };
    let bot = start_at("2026-11-29T10:00:00Z", prepare).await;
    let latin = bot.world.latin.id;
    let notices = until("the admins are told", || async {
        let notices: Vec<String> = bot
            .sent_to(latin)
            .into_iter()
            .filter(|m| m.starts_with("⚠️"))
            .collect();
        (!notices.is_empty()).then_some(notices)
    })
    .await;
    assert!(notices[0].contains("The week of 2026-11-30 has no bulletin yet"));
    assert!(
        !bot.sent_to(bot.world.general.id)
            .iter()
            .any(|m| m.starts_with("⚠️")),
        "no notice in the default channel"
    );
    bot.fake.assert_no_spec_violations();
}
