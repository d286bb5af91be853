// Types through a real database: every built-in type and its std::optional (values and NULL)
// round-trips; enums by number and by label; a user Convert type; edge values; and values the
// model cannot hold (NULL, wrong kind, out of range) raise DataError naming the column.
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "backend.hpp"

// Unsigned integers of every width, in a table of their own (registered by the tests that use it).
struct Counters {
  std::int64_t id = 0;
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  std::optional<std::uint64_t> opt_u64{};
};

template <>
struct strata::Model<Counters> {
  static constexpr auto table = "counters";
  static auto columns() {
    return mapping(column("id", &Counters::id).primary_key(), column("u8", &Counters::u8),
                   column("u16", &Counters::u16), column("u32", &Counters::u32),
                   column("u64", &Counters::u64), column("opt_u64", &Counters::opt_u64));
  }
};

// Server defaults written without seconds, as SQLite's time functions and PostgreSQL accept.
struct Opening {
  std::int64_t id = 0;
  std::string shop{};
  std::optional<strata::Time> opens{};
  std::optional<strata::DateTime> since{};
};

template <>
struct strata::Model<Opening> {
  static constexpr auto table = "opening";
  static auto columns() {
    return mapping(column("id", &Opening::id).primary_key(), column("shop", &Opening::shop),
                   column("opens", &Opening::opens).server_default("'09:30'"),
                   column("since", &Opening::since).server_default("'2020-01-01 08:00'"));
  }
};

// A user type stored as a DateTime: what a DateTime cannot store, it cannot either.
struct Deadline {
  strata::DateTime at{};
};

template <>
struct strata::Type<Deadline> : strata::Convert<Deadline, strata::DateTime> {
  static strata::DateTime to_db(const Deadline& d) { return d.at; }
  static Deadline from_db(strata::DateTime at) { return Deadline{at}; }
};

struct Milestone {
  std::int64_t id = 0;
  Deadline due{};
};

template <>
struct strata::Model<Milestone> {
  static constexpr auto table = "milestone";
  static auto columns() {
    return mapping(column("id", &Milestone::id).primary_key(), column("due", &Milestone::due));
  }
};

// A flag of its own type, stored as a bool (Convert<T, bool>).
struct Flag {
  bool on = false;
  friend bool operator==(const Flag&, const Flag&) = default;
};

template <>
struct strata::Type<Flag> : strata::Convert<Flag, bool> {
  static bool to_db(const Flag& f) { return f.on; }
  static Flag from_db(bool on) { return Flag{on}; }
};

struct Switch {
  std::int64_t id = 0;
  Flag flag{};
};

template <>
struct strata::Model<Switch> {
  static constexpr auto table = "switch";
  static auto columns() {
    return mapping(column("id", &Switch::id).primary_key(), column("flag", &Switch::flag));
  }
};

// Rows keyed by a time, alone (a shift and its notes) and with a number (a sensor's readings):
// PostgreSQL reads a timestamp back without the zero fraction strata writes.
struct ShiftNote;
struct Shift {
  strata::DateTime starts{};
  std::string crew{};
  strata::HasMany<ShiftNote> notes{};
};
struct ShiftNote {
  std::int64_t id = 0;
  strata::DateTime shift_starts{};
  std::string text{};
  strata::BelongsTo<Shift> shift{};
};
struct Reading {
  std::int64_t sensor = 0;
  strata::DateTime at{};
  double value = 0;
};

template <>
struct strata::Model<Shift> {
  static constexpr auto table = "shift";
  static auto columns() {
    return mapping(column("starts", &Shift::starts).primary_key(), column("crew", &Shift::crew),
                   has_many("notes", &Shift::notes).back_populates(&ShiftNote::shift));
  }
};
template <>
struct strata::Model<ShiftNote> {
  static constexpr auto table = "shift_note";
  static auto columns() {
    return mapping(column("id", &ShiftNote::id).primary_key(),
                   column("shift_starts", &ShiftNote::shift_starts).references(&Shift::starts),
                   column("text", &ShiftNote::text),
                   belongs_to("shift", &ShiftNote::shift, &ShiftNote::shift_starts)
                       .back_populates(&Shift::notes));
  }
};
template <>
struct strata::Model<Reading> {
  static constexpr auto table = "reading";
  static auto columns() {
    return mapping(column("sensor", &Reading::sensor).primary_key().autoincrement(false),
                   column("at", &Reading::at).primary_key(), column("value", &Reading::value));
  }
};

namespace {

using namespace std::chrono;
using strata::col;

BACKEND_SUITE(TypesTest);

strata::Blob bytes(std::initializer_list<unsigned char> values) {
  strata::Blob b;
  for (auto v : values) b.push_back(static_cast<std::byte>(v));
  return b;
}

const strata::DateTime kStamp = sys_days{2024y / 2 / 29} + 13h + 14min + 15s + 123456us;
const strata::Time kTime{23h + 59min + 59s + 999999us};

Sample every_type_set() {
  Sample x;
  x.i16 = std::numeric_limits<std::int16_t>::min();
  x.i32 = std::numeric_limits<std::int32_t>::max();
  x.i64 = std::numeric_limits<std::int64_t>::min();
  x.real = 3.141592653589793;
  x.real32 = 1.5f;
  x.flag = true;
  x.name = "Zoë \"double\" 'single'";
  x.text = std::string("line one\nline two\t") + std::string(5000, 'x');
  x.data = bytes({0x00, 0xff, 0x10, 0x00});
  x.day = 2024y / 2 / 29;
  x.at = kTime;
  x.stamp = kStamp;
  x.role = Role::admin;
  x.mood = Mood::grumpy;
  x.price = Money{-1999};
  return x;
}

// Every member of got equals want's (row i of a test, for the failure message).
void expect_same_sample(const Sample& got, const Sample& want, std::size_t i) {
  EXPECT_EQ(got.i16, want.i16) << i;
  EXPECT_EQ(got.i32, want.i32) << i;
  EXPECT_EQ(got.i64, want.i64) << i;
  EXPECT_EQ(got.real, want.real) << i;
  EXPECT_EQ(got.real32, want.real32) << i;
  EXPECT_EQ(got.flag, want.flag) << i;
  EXPECT_EQ(got.name, want.name) << i;
  EXPECT_EQ(got.text, want.text) << i;
  EXPECT_EQ(got.data, want.data) << i;
  EXPECT_TRUE(got.day == want.day) << i;
  EXPECT_TRUE(got.at == want.at) << i;
  EXPECT_TRUE(got.stamp == want.stamp) << i;
  EXPECT_EQ(got.role, want.role) << i;
  EXPECT_EQ(got.mood, want.mood) << i;
  EXPECT_EQ(got.price, want.price) << i;
  EXPECT_EQ(got.opt_i16, want.opt_i16) << i;
  EXPECT_EQ(got.opt_i32, want.opt_i32) << i;
  EXPECT_EQ(got.opt_i64, want.opt_i64) << i;
  EXPECT_EQ(got.opt_real, want.opt_real) << i;
  EXPECT_EQ(got.opt_real32, want.opt_real32) << i;
  EXPECT_EQ(got.opt_flag, want.opt_flag) << i;
  EXPECT_EQ(got.opt_name, want.opt_name) << i << ": an empty string and NULL differ";
  EXPECT_EQ(got.opt_text, want.opt_text) << i << ": the text NULL and NULL differ";
  EXPECT_EQ(got.opt_data, want.opt_data) << i << ": an empty blob and NULL differ";
  EXPECT_TRUE(got.opt_day == want.opt_day) << i;
  EXPECT_TRUE(got.opt_at == want.opt_at) << i;
  EXPECT_TRUE(got.opt_stamp == want.opt_stamp) << i;
  EXPECT_EQ(got.opt_role, want.opt_role) << i;
  EXPECT_EQ(got.opt_mood, want.opt_mood) << i;
  EXPECT_EQ(got.opt_price, want.opt_price) << i;
}

// ---- round trips ---------------------------------------------------------------------------

TEST_P(TypesTest, every_builtin_type_round_trips) {
  auto& s = session();
  auto id = s.add(every_type_set())->id;
  s.commit();
  id = s.query<Sample>().one()->id;
  s.expunge_all();

  auto got = s.get<Sample>(id);
  ASSERT_TRUE(got);
  const Sample want = every_type_set();
  EXPECT_EQ(got->i16, want.i16) << "int16 minimum lost";
  EXPECT_EQ(got->i32, want.i32) << "int32 maximum lost";
  EXPECT_EQ(got->i64, want.i64) << "int64 minimum lost";
  EXPECT_EQ(got->real, want.real) << "double lost precision";
  EXPECT_EQ(got->real32, want.real32);
  EXPECT_EQ(got->flag, want.flag);
  EXPECT_EQ(got->name, want.name) << "text with quotes or UTF-8 changed";
  EXPECT_EQ(got->text, want.text) << "long text with control characters changed";
  EXPECT_EQ(got->data, want.data) << "blob with zero bytes changed";
  EXPECT_EQ(got->day, want.day) << "date changed";
  EXPECT_TRUE(got->at == want.at) << "time changed: " << strata::to_iso(got->at);
  EXPECT_TRUE(got->stamp == want.stamp) << "datetime changed: " << strata::to_iso(got->stamp);
  EXPECT_EQ(got->role, want.role);
  EXPECT_EQ(got->mood, want.mood);
  EXPECT_EQ(got->price, want.price) << "Convert<Money, int64> did not round-trip";
}

TEST_P(TypesTest, optional_members_round_trip_their_values) {
  auto& s = session();
  Sample x;
  x.opt_i16 = std::int16_t{-7};
  x.opt_i32 = -2147483647 - 1;
  x.opt_i64 = std::numeric_limits<std::int64_t>::max();
  x.opt_real = -0.25;
  x.opt_real32 = 2.5f;
  x.opt_flag = false;  // present and false is not NULL
  x.opt_name = "";     // present and empty is not NULL
  x.opt_text = "t";
  x.opt_data = strata::Blob{};
  x.opt_day = 1999y / 12 / 31;
  x.opt_at = strata::Time{0us};
  x.opt_stamp = kStamp;
  x.opt_role = Role::writer;
  x.opt_mood = Mood::happy;
  x.opt_price = Money{0};
  auto added = s.add(x);
  s.commit();
  auto id = added->id;
  s.expunge_all();

  auto got = s.get<Sample>(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->opt_i16, x.opt_i16);
  EXPECT_EQ(got->opt_i32, x.opt_i32);
  EXPECT_EQ(got->opt_i64, x.opt_i64);
  EXPECT_EQ(got->opt_real, x.opt_real);
  EXPECT_EQ(got->opt_real32, x.opt_real32);
  EXPECT_EQ(got->opt_flag, false) << "optional<bool>{false} came back as "
                                  << got->opt_flag.has_value();
  EXPECT_EQ(got->opt_name, std::optional<std::string>("")) << "an empty string became NULL";
  EXPECT_EQ(got->opt_text, x.opt_text);
  EXPECT_EQ(got->opt_data, std::optional<strata::Blob>(strata::Blob{}))
      << "an empty blob became NULL";
  EXPECT_EQ(got->opt_day, x.opt_day);
  EXPECT_TRUE(got->opt_at == x.opt_at) << "midnight was lost";
  EXPECT_TRUE(got->opt_stamp == x.opt_stamp);
  EXPECT_EQ(got->opt_role, x.opt_role);
  EXPECT_EQ(got->opt_mood, x.opt_mood);
  EXPECT_EQ(got->opt_price, x.opt_price);
}

TEST_P(TypesTest, unset_optional_members_are_stored_as_null_and_load_as_nullopt) {
  auto& s = session();
  auto added = s.add(Sample{});
  s.commit();
  auto id = added->id;

  auto row = s.execute(
      "SELECT opt_i16, opt_i32, opt_i64, opt_real, opt_real32, opt_flag, "
      "opt_name, opt_text, opt_data, opt_day, opt_at, opt_stamp, opt_role, "
      "opt_mood, opt_price FROM sample WHERE id = " +
          ph(1),
      {id});
  ASSERT_EQ(row.size(), 1u);
  for (std::size_t i = 0; i < row.rows[0].size(); ++i)
    EXPECT_TRUE(strata::is_null(row.rows[0][i]))
        << "column " << row.columns[i] << " is not NULL for an unset optional member";

  s.expunge_all();
  auto got = s.get<Sample>(id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->opt_i16 || got->opt_i32 || got->opt_i64 || got->opt_real || got->opt_real32 ||
               got->opt_flag || got->opt_name || got->opt_text || got->opt_data || got->opt_day ||
               got->opt_at || got->opt_stamp || got->opt_role || got->opt_mood || got->opt_price)
      << "a NULL column loaded as a value";
}

TEST_P(TypesTest, enum_without_labels_is_stored_as_its_number) {
  auto& s = session();
  auto added = s.add(Sample{.role = Role::admin, .opt_role = Role::writer});
  s.commit();
  auto r = s.execute("SELECT role, opt_role FROM sample WHERE id = " + ph(1), {added->id});
  EXPECT_EQ(r.rows.at(0).get<std::int64_t>("role"), 2) << "Role::admin is not stored as 2";
  EXPECT_EQ(r.rows.at(0).get<std::int64_t>("opt_role"), 1);
}

TEST_P(TypesTest, enum_with_labels_is_stored_as_its_name) {
  auto& s = session();
  auto added = s.add(Sample{.mood = Mood::grumpy, .opt_mood = Mood::happy});
  s.commit();
  auto r = s.execute("SELECT mood, opt_mood FROM sample WHERE id = " + ph(1), {added->id});
  EXPECT_EQ(r.rows.at(0).get<std::string>("mood"), "grumpy") << "EnumLabels were not used";
  EXPECT_EQ(r.rows.at(0).get<std::string>("opt_mood"), "happy");
  // And a query compares by label.
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::mood) == Mood::grumpy).count(), 1);
}

TEST_P(TypesTest, convert_type_is_stored_as_its_stored_type) {
  auto& s = session();
  auto added = s.add(Sample{.price = Money{12345}});
  s.commit();
  auto r = s.execute("SELECT price FROM sample WHERE id = " + ph(1), {added->id});
  EXPECT_EQ(r.rows.at(0).get<std::int64_t>(0), 12345) << "Money is not stored as its cents";
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::price) > Money{100}).count(), 1)
      << "a Convert type cannot be compared in a query";
  EXPECT_EQ(r.rows.at(0).get<Money>(0), Money{12345}) << "Row::get<Money> does not convert";
}

TEST_P(TypesTest, empty_blob_is_stored_as_an_empty_blob_not_null) {
  auto& s = session();
  auto added = s.add(Sample{.data = {}});
  s.commit();
  auto r = s.execute("SELECT data FROM sample WHERE id = " + ph(1), {added->id});
  ASSERT_FALSE(strata::is_null(r.rows.at(0)[0])) << "an empty blob was stored as NULL";
  EXPECT_TRUE(r.rows.at(0).get<strata::Blob>(0).empty());
  s.expunge_all();
  EXPECT_TRUE(s.get<Sample>(added->id)->data.empty());
}

TEST_P(TypesTest, datetime_keeps_microseconds_and_orders_by_time) {
  auto& s = session();
  auto earlier = s.add(Sample{.stamp = kStamp});
  auto later = s.add(Sample{.stamp = kStamp + 1us});
  s.commit();
  s.expunge_all();
  EXPECT_TRUE(s.get<Sample>(later->id)->stamp == kStamp + 1us) << "microseconds were lost";
  auto ordered = s.query<Sample>().order_by(strata::desc(&Sample::stamp)).all();
  ASSERT_EQ(ordered.size(), 2u);
  EXPECT_EQ(ordered[0]->id, later->id) << "datetimes one microsecond apart sort wrongly";
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::stamp) > kStamp).count(), 1)
      << "a datetime comparison ignores microseconds";
  (void)earlier;
}

TEST_P(TypesTest, a_row_keyed_by_a_time_is_one_object_however_the_database_spells_the_time) {
  // Noon has no fraction: strata writes '... 12:00:00.000000', PostgreSQL reads back
  // '... 12:00:00'. Each query, get(), bulk update and eager load must find the object the
  // session holds, not make a second one for the same row.
  db().register_models<Shift, ShiftNote, Reading>();
  db().drop_all();
  db().create_all();
  auto& s = session();
  const strata::DateTime noon = sys_days{2024y / 5 / 1} + 12h;
  auto shift = s.add(Shift{.starts = noon, .crew = "day"});
  auto note = s.add(ShiftNote{.text = "handover", .shift = shift});
  auto reading = s.add(Reading{.sensor = 7, .at = noon, .value = 1.5});
  s.commit();
  EXPECT_EQ(s.query<Shift>().one(), shift);
  EXPECT_EQ(s.get<Shift>(noon), shift);
  EXPECT_EQ(s.query<Reading>().one(), reading);
  EXPECT_EQ(s.query<ShiftNote>().one()->shift.get(), shift);

  s.query<Shift>().filter(col(&Shift::starts) == noon).update(strata::set(&Shift::crew, "night"));
  EXPECT_EQ(shift->crew, "night") << "the bulk update missed the session's object";
  s.query<Reading>().filter(col(&Reading::sensor) == 7).update(strata::set(&Reading::value, 2.5));
  EXPECT_EQ(reading->value, 2.5) << "the bulk update missed the session's object";
  s.commit();

  // A second object for the row would be deleted here while the first stays in the session.
  s.delete_(s.query<Reading>().one());
  s.commit();
  EXPECT_FALSE(s.contains(reading));
  EXPECT_EQ(s.query<Reading>().count(), 0);

  s.expunge_all();
  auto eager = s.query<Shift>().options(strata::selectinload(&Shift::notes)).one();
  ASSERT_EQ(eager->notes.size(), 1u) << "selectinload did not match the notes to their shift";
  EXPECT_EQ(eager->notes[0]->text, "handover");
  s.expunge_all();
  auto joined = s.query<Shift>().options(strata::joinedload(&Shift::notes)).one();
  ASSERT_EQ(joined->notes.size(), 1u);
  auto back = s.query<ShiftNote>().options(strata::selectinload(&ShiftNote::shift)).one();
  EXPECT_EQ(back->shift.get(), joined) << note->text;
}

TEST_P(TypesTest, dates_and_times_changed_by_a_microsecond_are_updated_and_restored_by_rollback) {
  // Snapshots keep dates and times as numbers (ColumnInfo::snapshot): a change of one
  // microsecond or one day is still a change, the UPDATE writes the value, and rollback()
  // puts the loaded value back, for plain and optional members.
  auto& s = session();
  auto x = s.add(Sample{.day = std::chrono::year{2001} / 2 / 3, .at = strata::Time{5h + 1us},
                        .stamp = kStamp, .opt_day = std::chrono::year{1999} / 12 / 31,
                        .opt_stamp = kStamp});
  s.commit();
  EXPECT_FALSE(s.is_modified(x)) << "an object just committed looks modified";
  x->stamp += 1us;
  EXPECT_TRUE(s.is_modified(x)) << "a change of one microsecond went unseen";
  x->stamp -= 1us;
  EXPECT_FALSE(s.is_modified(x)) << "the original value back looks modified";

  x->stamp = kStamp + 1us;
  x->day = std::chrono::year{2001} / 2 / 4;
  x->at = strata::Time{5h + 2us};
  x->opt_stamp.reset();
  x->opt_day = std::chrono::year{1970} / 1 / 1;
  s.commit();
  EXPECT_FALSE(s.is_modified(x));
  if (shared_database()) {
    auto other = open_another();
    auto y = other->session().get<Sample>(x->id);
    ASSERT_TRUE(y);
    EXPECT_TRUE(y->stamp == kStamp + 1us);
    EXPECT_TRUE(y->day == std::chrono::year{2001} / 2 / 4);
    EXPECT_TRUE(y->at == strata::Time{5h + 2us});
    EXPECT_FALSE(y->opt_stamp.has_value());
    EXPECT_TRUE(y->opt_day == std::chrono::year{1970} / 1 / 1);
  }

  x->stamp = kStamp + 5us;
  x->opt_stamp = kStamp;
  x->opt_day.reset();
  s.flush();
  s.rollback();
  EXPECT_TRUE(x->stamp == kStamp + 1us) << "rollback() did not restore the datetime";
  EXPECT_FALSE(x->opt_stamp.has_value()) << "rollback() did not restore the null";
  EXPECT_TRUE(x->opt_day == std::chrono::year{1970} / 1 / 1) << "rollback() did not restore the date";
  EXPECT_FALSE(s.is_modified(x));
}

TEST_P(TypesTest, changes_to_long_text_blobs_and_converted_text_are_seen_and_rolled_back) {
  // A snapshot keeps up to 14 bytes of text or blob inside its cell and longer values apart:
  // a change anywhere in either is a change, on either side of that limit.
  auto& s = session();
  const std::string long_text(300, 't');
  auto x = s.add(Sample{.name = std::string(14, 'n'), .text = long_text,
                        .data = strata::Blob(40, std::byte{0x5c}),
                        .label = Label{"a label long enough to be kept apart"},
                        .opt_data = strata::Blob{std::byte{'a'}, std::byte{0}, std::byte{'b'}}});
  s.commit();
  EXPECT_FALSE(s.is_modified(x)) << "an object just committed looks modified";
  x->text.back() = 'u';
  EXPECT_TRUE(s.is_modified(x)) << "the last byte of a long text changed unseen";
  x->text.back() = 't';
  EXPECT_FALSE(s.is_modified(x));
  x->name.push_back('n');  // 14 -> 15 bytes
  EXPECT_TRUE(s.is_modified(x)) << "text growing past the cell went unseen";
  x->name.pop_back();
  x->data.back() = std::byte{0};
  EXPECT_TRUE(s.is_modified(x)) << "the last byte of a blob changed unseen";
  x->data.back() = std::byte{0x5c};
  x->label.text[0] = 'A';
  EXPECT_TRUE(s.is_modified(x)) << "a Convert<T, std::string> value changed unseen";
  x->label.text[0] = 'a';
  (*x->opt_data)[2] = std::byte{'c'};
  EXPECT_TRUE(s.is_modified(x)) << "a change after a NUL byte went unseen";
  (*x->opt_data)[2] = std::byte{'b'};
  EXPECT_FALSE(s.is_modified(x));

  // Two flushes in one transaction, then rollback(): back to the committed values.
  x->text = std::string(500, 'v');
  x->label = Label{"short"};
  s.flush();
  x->text = std::string(20, 'w');
  x->data = strata::Blob(3, std::byte{1});
  x->name = "fifteen bytes!!";
  s.flush();
  s.rollback();
  EXPECT_EQ(x->text, long_text) << "rollback() did not restore the long text";
  EXPECT_EQ(x->data, strata::Blob(40, std::byte{0x5c})) << "rollback() did not restore the blob";
  EXPECT_EQ(x->label, Label{"a label long enough to be kept apart"});
  EXPECT_EQ(x->name, std::string(14, 'n'));
  EXPECT_FALSE(s.is_modified(x));
  s.expunge_all();
  auto y = s.get<Sample>(x->id);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->text, long_text);
  EXPECT_EQ(y->label, Label{"a label long enough to be kept apart"});
  EXPECT_EQ(y->opt_data, (strata::Blob{std::byte{'a'}, std::byte{0}, std::byte{'b'}}));
}

TEST_P(TypesTest, dates_and_times_that_would_not_load_again_are_refused_before_the_database) {
  using namespace std::chrono;
  struct Case {
    const char* column;
    std::function<void(Sample&)> spoil;
  };
  const std::vector<Case> cases{
      {"sample.day", [](Sample& x) { x.day = strata::Date{}; }},  // 0000-00-00
      {"sample.day", [](Sample& x) { x.day = year{2023} / 2 / 30; }},
      {"sample.day", [](Sample& x) { x.day = year{0} / 12 / 31; }},  // no year 0 in PostgreSQL
      {"sample.stamp", [](Sample& x) { x.stamp = strata::DateTime{sys_days{year{0} / 6 / 1}}; }},
      {"sample.at", [](Sample& x) { x.at = strata::Time{hours{25}}; }},
      {"sample.at", [](Sample& x) { x.at = strata::Time{-microseconds{1}}; }},
      {"sample.stamp",
       [](Sample& x) { x.stamp = strata::DateTime{sys_days{year{10000} / 1 / 1}}; }},
      {"sample.opt_day", [](Sample& x) { x.opt_day = year{2023} / 13 / 1; }},
  };
  auto& s = session();
  auto kept = s.add(Sample{.name = "kept"});
  s.commit();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.column);
    // A new row, one at a time and (where the backend batches) several at once.
    for (const int rows : {1, 3}) {
      for (int r = 0; r < rows; ++r) {
        Sample x{.name = "new"};
        c.spoil(x);
        s.add(std::move(x));
      }
      try {
        s.commit();
        ADD_FAILURE() << "a value that cannot load again was written";
      } catch (const strata::DataError& e) {
        EXPECT_NE(std::string(e.what()).find(std::string("cannot store column '") + c.column),
                  std::string::npos)
            << e.what();
      }
      s.rollback();
    }
    // A change to a stored row.
    c.spoil(*kept);
    EXPECT_THROW(s.commit(), strata::DataError);
    s.rollback();
  }
  s.expunge_all();
  EXPECT_EQ(s.query<Sample>().count(), 1) << "a refused row was written";
  auto back = s.get<Sample>(kept->id);  // the stored row still loads
  ASSERT_TRUE(back);
  EXPECT_EQ(back->day, Sample{}.day);
}

// min() and max() go by the stored type: a Convert<T, bool> is compared as the integer it is
// stored as, as a bool is (PostgreSQL has no max(boolean)).
TEST_P(TypesTest, min_and_max_of_a_type_stored_as_bool) {
  db().register_models<Switch>();
  db().drop_all();
  db().create_all();
  auto& s = session();
  s.add(Switch{.flag = Flag{false}});
  s.add(Switch{.flag = Flag{true}});
  s.commit();
  EXPECT_EQ(s.query<Switch>().select(strata::max(&Switch::flag)).scalar(), Flag{true});
  EXPECT_EQ(s.query<Switch>().select(strata::min(&Switch::flag)).scalar(), Flag{false});
}

TEST_P(TypesTest, values_without_a_form_in_the_database_are_refused_naming_their_column) {
  // An enum value that EnumLabels does not list, and a Convert type over a DateTime holding a
  // date that would not load again: refused at flush, naming the column, whether the row is
  // written alone or with others (PostgreSQL's batched INSERT).
  db().register_models<Milestone>();
  db().drop_all();
  db().create_all();
  auto& s = session();
  auto expect_refused = [&](const std::string& column) {
    try {
      s.commit();
      ADD_FAILURE() << "a value that cannot be stored was written to " << column;
    } catch (const strata::DataError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot store column '" + column + "'"),
                std::string::npos)
          << e.what();
    }
    s.rollback();
  };
  const strata::DateTime year_10000{sys_days{year{10000} / 1 / 1}};
  for (const int rows : {1, 3}) {
    for (int i = 0; i < rows; ++i) s.add(Sample{.mood = static_cast<Mood>(9)});
    expect_refused("sample.mood");
    for (int i = 0; i < rows; ++i) s.add(Sample{.opt_mood = static_cast<Mood>(9)});
    expect_refused("sample.opt_mood");
    for (int i = 0; i < rows; ++i) s.add(Milestone{.due = Deadline{year_10000}});
    expect_refused("milestone.due");
  }
  // A change to a stored row: refused, and rollback() gives the stored value back.
  auto kept = s.add(Milestone{.due = Deadline{kStamp}});
  auto sample = s.add(Sample{.mood = Mood::happy});
  s.commit();
  kept->due.at = year_10000;
  expect_refused("milestone.due");
  EXPECT_TRUE(kept->due.at == kStamp) << "rollback() did not restore the value";
  sample->mood = static_cast<Mood>(9);
  expect_refused("sample.mood");
  EXPECT_EQ(sample->mood, Mood::happy) << "rollback() did not restore the value";
  s.query<Sample>().delete_();
  s.commit();
  s.expunge_all();
  EXPECT_EQ(s.query<Sample>().count(), 0) << "a refused row was written";
  auto back = s.query<Milestone>().one();
  EXPECT_TRUE(back->due.at == kStamp);
}

TEST_P(TypesTest, nan_is_kept_and_unchanged_or_refused_never_turned_into_null) {
  auto& s = session();
  auto x = s.add(Sample{.real = std::nan(""), .opt_real = std::nan("")});
  if (!stores_nan()) {
    try {
      s.commit();
      FAIL() << "a NaN was accepted, to be stored as NULL";
    } catch (const strata::DataError& e) {
      EXPECT_NE(std::string(e.what()).find("is NaN"), std::string::npos) << e.what();
    }
    s.rollback();
    EXPECT_EQ(s.query<Sample>().count(), 0) << "a row was written";
    return;
  }
  s.commit();
  EXPECT_FALSE(s.is_modified(x)) << "a NaN that did not change looks changed";
  clear_sql();
  s.commit();
  EXPECT_TRUE(writes().empty()) << "an unchanged NaN was written again\n" << dump();
  x->real = 1.5;
  s.commit();
  EXPECT_EQ(writes(), (std::vector<std::string>{
                          spelled("UPDATE {sample} SET {real} = ? WHERE {sample}.id = ?")}))
      << dump();
  s.expunge_all();
  auto y = s.get<Sample>(x->id);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->real, 1.5);
  ASSERT_TRUE(y->opt_real.has_value()) << "NaN came back as NULL";
  EXPECT_TRUE(std::isnan(*y->opt_real));
}

// 0.0 == -0.0, so a change between them passed for no change and was never written.
TEST_P(TypesTest, a_change_of_the_sign_of_zero_is_written) {
  auto& s = session();
  auto x = s.add(Sample{.real = 0.0});
  s.commit();
  x->real = -0.0;
  EXPECT_TRUE(s.is_modified(x));
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (std::vector<std::string>{
                          spelled("UPDATE {sample} SET {real} = ? WHERE {sample}.id = ?")}))
      << dump();
  EXPECT_FALSE(s.is_modified(x));
  s.expunge_all();
  auto y = s.get<Sample>(x->id);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->real, 0.0);
  // PostgreSQL keeps the sign; SQLite stores a whole real as an integer and reads 0.0
  EXPECT_EQ(std::signbit(y->real), stores_nan()) << "(stores_nan(): PostgreSQL)";
}

TEST_P(TypesTest, doubles_keep_every_digit_whatever_the_server_sets_extra_float_digits_to) {
  // A server (or a database, or a role) set to extra_float_digits = 0, as older setups are,
  // writes doubles with 15 digits: 0.1 + 0.2 would load as 0.3.
  if (!server_connections()) GTEST_SKIP() << "the setting is PostgreSQL's";
  auto& s = session();
  const auto name = s.execute("SELECT current_database()").rows.at(0).get<std::string>(0);
  s.execute("ALTER DATABASE " + q(name) + " SET extra_float_digits = 0");
  s.commit();
  struct Reset {
    strata::Session& s;
    std::string sql;
    ~Reset() {
      s.execute(sql);
      s.commit();
    }
  } reset{s, "ALTER DATABASE " + q(name) + " RESET extra_float_digits"};

  auto other = open_another();  // new connections, which take the database's setting
  auto& s2 = other->session();
  const double tricky = 0.1 + 0.2;
  auto x = s2.add(Sample{.real = tricky, .real32 = 1.0f / 3.0f, .opt_real = 1e-310});
  s2.commit();
  s2.expunge_all();
  auto y = s2.get<Sample>(x->id);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->real, tricky) << "the double lost digits on its way back";
  EXPECT_EQ(y->real32, 1.0f / 3.0f);
  EXPECT_EQ(y->opt_real, 1e-310);
  EXPECT_EQ(s2.query<Sample>().select(strata::max(&Sample::real)).scalar(), tricky);
}

TEST_P(TypesTest, timestamps_with_a_time_zone_read_as_utc) {
  // PostgreSQL writes a timestamptz in the session's zone (UTC) as ...+00, which loaded as a
  // DataError; an existing timestamptz column or now() must read.
  if (!server_connections()) GTEST_SKIP() << "timestamptz and timetz are PostgreSQL's";
  auto& s = session();
  auto r = s.execute("SELECT TIMESTAMPTZ '2024-01-01 12:00:00.25+02', TIMETZ '01:00:00+03'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(strata::to_iso(r.rows[0].get<strata::DateTime>(0)), "2024-01-01 10:00:00.250000");
  EXPECT_EQ(strata::to_iso(r.rows[0].get<strata::Time>(1)), "22:00:00.000000");
  auto now = s.execute("SELECT now()").rows.at(0).get<strata::DateTime>(0);
  EXPECT_LT(std::chrono::abs(now - strata::utc_now()), std::chrono::minutes{5});
}

// A program may set a locale whose decimal point is a comma (setlocale(LC_ALL, "") where the
// user's language is German); numbers must still read and write as the database has them.
TEST_P(TypesTest, doubles_read_back_the_same_whatever_the_programs_locale) {
  // de_DE made with localedef in a folder of the test's own (glibc reads LOCPATH), where the
  // system can make it.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("strata_locale_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::setlocale(LC_NUMERIC, "C");
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  const std::string make = "localedef -i de_DE -f UTF-8 '" + (dir / "de_DE.UTF-8").string() +
                           "' >/dev/null 2>&1";
  if (std::system(make.c_str()) != 0) GTEST_SKIP() << "localedef cannot make de_DE here";
  ::setenv("LOCPATH", dir.c_str(), 1);
  if (!std::setlocale(LC_NUMERIC, "de_DE.UTF-8")) GTEST_SKIP() << "no de_DE locale here";
  ASSERT_EQ(std::strtod("0.5", nullptr), 0.0) << "the locale's decimal point is not a comma";

  auto& s = session();
  const double tricky = 0.1 + 0.2;
  auto x = s.add(Sample{.real = tricky, .real32 = 2.5f, .opt_real = -1.25e-300});
  s.commit();
  s.expunge_all();
  auto y = s.get<Sample>(x->id);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->real, tricky);
  EXPECT_EQ(y->real32, 2.5f);
  EXPECT_EQ(y->opt_real, -1.25e-300);
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::real) > 0.25).count(), 1);
  EXPECT_EQ(s.query<Sample>().select(strata::avg(&Sample::real32)).scalar(), 2.5);
}

TEST_P(TypesTest, a_real_beyond_a_floats_range_is_a_data_error_naming_the_column) {
  // A float member took it as infinity, without a word; a double member takes it as it is.
  auto& s = session();
  auto x = s.add(Sample{});
  s.commit();
  const auto id = std::to_string(x->id);
  s.execute("UPDATE " + q("sample") + " SET real32 = 1e300, " + q("real") + " = 1e300 WHERE id = " + id);
  s.commit();
  s.expunge_all();
  try {
    s.get<Sample>(x->id);
    ADD_FAILURE() << "1e300 was loaded into a float";
  } catch (const strata::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load column 'sample.real32': value 1e+300 does "
                                         "not fit a 32-bit float"),
              std::string::npos)
        << e.what();
  }
  s.rollback();
  s.execute("UPDATE " + q("sample") + " SET real32 = 3e38 WHERE id = " + id);
  s.commit();
  auto y = s.get<Sample>(x->id);
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->real, 1e300);
  EXPECT_FLOAT_EQ(y->real32, 3e38f);
}

// A real number read as an integer is truncated, and one beyond a 64-bit integer's range is
// the nearest end of it, as SQLite reads it (and never a value the conversion made up).
TEST_P(TypesTest, a_real_read_as_an_integer_is_truncated_or_clamped_to_the_range) {
  auto c = db().engine().connect();
  auto stmt = c->prepare(
      "SELECT CAST(1e300 AS DOUBLE PRECISION), CAST(-1e300 AS DOUBLE PRECISION), "
      "CAST(-2.75 AS DOUBLE PRECISION), CAST(12345.9 AS DOUBLE PRECISION)");
  ASSERT_TRUE(stmt->step());
  EXPECT_EQ(stmt->get_int64(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(stmt->get_int64(1), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(stmt->get_int64(2), -2);
  EXPECT_EQ(stmt->get_int64(3), 12345);
}

TEST_P(TypesTest, a_refused_nul_byte_names_its_parameter_as_the_sql_numbers_it) {
  if (text_holds_nul()) GTEST_SKIP() << "the backend's text holds NUL bytes";
  auto c = db().engine().connect();
  auto stmt = c->prepare("SELECT " + ph(1) + ", " + ph(2) + ", " + ph(3));
  stmt->bind(0, strata::Value(std::string("a")));
  try {
    stmt->bind(1, strata::Value(std::string("b\0c", 3)));
    FAIL() << "text with a NUL byte was accepted";
  } catch (const strata::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("parameter " + ph(2) + " is text containing a NUL byte"),
              std::string::npos)
        << e.what();
    // The refused value is shown, its NUL as \0 (it read NULL).
    EXPECT_NE(std::string(e.what()).find("[parameters: 'a', 'b\\0c'"), std::string::npos)
        << e.what();
  }
}

TEST_P(TypesTest, text_with_a_nul_byte_is_kept_whole_or_refused_never_cut_short) {
  auto& s = session();
  const std::string with_nul("with\0nul", 8);
  auto x = s.add(Sample{.text = with_nul});
  if (text_holds_nul()) {
    s.commit();
    s.expunge_all();
    auto y = s.get<Sample>(x->id);
    ASSERT_TRUE(y);
    EXPECT_EQ(y->text, with_nul);
    return;
  }
  try {
    s.commit();
    FAIL() << "text with a NUL byte was accepted";
  } catch (const strata::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("NUL byte"), std::string::npos) << e.what();
  }
  s.rollback();
  EXPECT_EQ(s.query<Sample>().count(), 0) << "a row was written";
  x->text = "without";
  s.add(x);
  s.commit();
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::text) == std::string("without")).count(), 1);
}

TEST_P(TypesTest, long_values_updated_over_many_transactions_stay_right) {
  // Each UPDATE of a long value leaves the old bytes behind; between transactions the session
  // copies the live ones out when most are garbage. Values, dirty checks and rollback() must
  // not notice.
  auto& s = session();
  std::vector<std::shared_ptr<Sample>> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(s.add(Sample{.text = std::string(200, 'a')}));
  s.commit();
  auto text_of = [](std::size_t row, int round) {
    return std::to_string(row) + ":" + std::string(200, static_cast<char>('a' + round % 26)) +
           std::to_string(round);
  };
  int last_committed = -1;
  for (int round = 0; round < 30; ++round) {
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i]->text = text_of(i, round);
    if (round % 5 == 4) {
      s.flush();
      s.rollback();
      for (std::size_t i = 0; i < rows.size(); ++i)
        ASSERT_EQ(rows[i]->text, text_of(i, last_committed)) << "round " << round << ", row " << i;
    } else {
      s.commit();
      last_committed = round;
    }
    for (const auto& r : rows) ASSERT_FALSE(s.is_modified(r)) << "round " << round;
  }
  rows[3]->text.front() = '#';
  EXPECT_TRUE(s.is_modified(rows[3])) << "a change after many rounds went unseen";
  s.rollback();
  s.expunge_all();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto y = s.get<Sample>(rows[i]->id);
    ASSERT_TRUE(y);
    EXPECT_EQ(y->text, text_of(i, last_committed)) << i;
  }
}

TEST_P(TypesTest, every_builtin_type_survives_an_insert_of_several_rows_at_once) {
  // Rows added together: one batched INSERT where the backend has it (PostgreSQL: one array
  // per column), so every type, set or NULL, goes through the array form on the way in.
  auto& s = session();
  clear_sql();
  std::vector<std::shared_ptr<Sample>> rows;
  for (int i = 0; i < 3; ++i) {
    Sample x = every_type_set();
    const auto n = static_cast<int>(i);
    x.i16 = static_cast<std::int16_t>(x.i16 + n);
    x.i64 = x.i64 + n;
    x.real = -0.5 - n;
    x.flag = i != 1;
    x.name = "name \"" + std::to_string(i) + "\", {braces}, back\\slash, NULL";
    x.data = strata::Blob{std::byte{0}, std::byte{0x5c}, std::byte{static_cast<unsigned char>(i)}};
    x.day = std::chrono::year{2021} / 12 / static_cast<unsigned>(29 + i);
    x.at = strata::Time{2h + std::chrono::microseconds{n}};
    x.stamp = kStamp + std::chrono::microseconds{n};
    if (i == 1) {  // every optional member set in one row, NULL in the others
      x.opt_i16 = std::int16_t{-1};
      x.opt_i32 = 7;
      x.opt_i64 = std::int64_t{1} << 50;
      x.opt_real = 0.125;
      x.opt_real32 = 2.5f;
      x.opt_flag = false;
      x.opt_name = "";
      x.opt_text = "NULL";
      x.opt_data = strata::Blob{};
      x.opt_day = std::chrono::year{1999} / 12 / 31;
      x.opt_at = strata::Time{std::chrono::microseconds{1}};
      x.opt_stamp = kStamp;
      x.opt_role = Role::admin;
      x.opt_mood = Mood::grumpy;
      x.opt_price = Money{5};
    }
    rows.push_back(s.add(std::move(x)));
  }
  s.commit();
  if (batched_inserts()) {
    EXPECT_EQ(writes().size(), 1u) << "not one batched INSERT\n" << dump();
  }
  for (std::size_t i = 1; i < rows.size(); ++i)
    EXPECT_LT(rows[i - 1]->id, rows[i]->id) << "keys not in add() order at " << i;
  s.expunge_all();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto y = s.get<Sample>(rows[i]->id);
    ASSERT_TRUE(y);
    expect_same_sample(*y, *rows[i], i);
  }
}

TEST_P(TypesTest, every_builtin_type_survives_an_update_of_several_rows_at_once) {
  // Several rows changing the same columns: one batched UPDATE where the backend has it
  // (PostgreSQL: one array per column), so every type goes through the array form too.
  auto& s = session();
  std::vector<std::shared_ptr<Sample>> rows;
  for (int i = 0; i < 3; ++i)
    rows.push_back(
        s.add(Sample{.flag = i == 1, .opt_i64 = 99, .opt_data = strata::Blob{std::byte{9}}}));
  s.commit();
  clear_sql();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto& r = *rows[i];
    const auto n = static_cast<int>(i);
    r.i16 = static_cast<std::int16_t>(-7 - n);
    r.i32 = 100000 + n;
    r.i64 = -(1LL << 40) - n;
    r.real = 0.25 + n;
    r.flag = !r.flag;  // every row changes every column: one statement
    r.name = "name \"" + std::to_string(i) + "\"";
    r.data = strata::Blob{std::byte{0}, std::byte{0x5c}, std::byte{static_cast<unsigned char>(i)}};
    r.day = std::chrono::year{2020} / 3 / static_cast<unsigned>(1 + i);
    r.at = strata::Time{1h + std::chrono::microseconds{n}};
    r.stamp = kStamp + std::chrono::seconds{n};
    r.role = Role::admin;
    r.opt_i64 = i == 1 ? std::nullopt : std::optional<std::int64_t>(n);
    r.opt_data = i == 2 ? std::nullopt : std::optional<strata::Blob>(strata::Blob{std::byte{1}});
  }
  s.commit();
  if (batched_updates()) {
    EXPECT_EQ(writes().size(), 1u) << "not one batched UPDATE\n" << dump();
  }
  s.expunge_all();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto y = s.get<Sample>(rows[i]->id);
    ASSERT_TRUE(y);
    expect_same_sample(*y, *rows[i], i);
  }
}

TEST_P(TypesTest, comparing_an_int32_column_with_a_wider_value_does_not_wrap) {
  auto& s = session();
  s.add(Sample{.i32 = 5});
  s.commit();
  // 3'000'000'000 wraps to -1'294'967'296 as an int32.
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::i32) < std::int64_t{3'000'000'000}).count(), 1)
      << "the value was narrowed to the column's type before comparing";
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::i32) < 5.5).count(), 1)
      << "a fractional value was truncated before comparing";
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::i32) > 5.5).count(), 0);
}

TEST_P(TypesTest, bulk_update_of_an_int32_column_with_an_out_of_range_value_is_a_data_error) {
  auto& s = session();
  auto added = s.add(Sample{.i32 = 5});
  s.commit();
  EXPECT_THROW(s.query<Sample>().update(strata::set(&Sample::i32, std::int64_t{5'000'000'000})),
               strata::DataError)
      << "set() silently wrapped a value that does not fit the int32 member";
  s.rollback();
  EXPECT_EQ(s.get<Sample>(added->id)->i32, 5);
}

TEST_P(TypesTest, bulk_update_of_a_float_column_with_a_double_beyond_its_range_is_a_data_error) {
  // The conversion gave an infinity, stored; loading 1e300 into the member is a DataError.
  auto& s = session();
  auto added = s.add(Sample{.real32 = 1.5f});
  s.commit();
  EXPECT_THROW(s.query<Sample>().update(strata::set(&Sample::real32, 1e300)), strata::DataError);
  EXPECT_THROW(s.query<Sample>().update(strata::set(&Sample::real32, -1e39)), strata::DataError);
  s.rollback();
  s.query<Sample>().update(strata::set(&Sample::real32, 2.5));
  s.commit();
  s.expunge_all();
  EXPECT_EQ(s.get<Sample>(added->id)->real32, 2.5f);
}

TEST_P(TypesTest, a_whole_numeric_read_by_raw_sql_is_an_exact_integer) {
  // PostgreSQL's sum of a BIGINT is a numeric, which was read as a double: 2^53 + 1 came back
  // as 2^53, and get<std::int64_t> refused "a real number". SQLite's sum is an integer.
  auto& s = session();
  s.add(Sample{.i64 = std::int64_t{1} << 53});
  s.add(Sample{.i64 = 1});
  s.commit();
  auto r = s.execute("SELECT sum(i64) AS total, avg(i64) AS mean FROM sample");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].get<std::int64_t>("total"), (std::int64_t{1} << 53) + 1);
  EXPECT_DOUBLE_EQ(r.rows[0].get<double>("mean"), 4503599627370496.5);
  // SQLite's NUMERIC affinity gives the same: an integer when whole and within 64 bits.
  auto n = s.execute("SELECT CAST(9223372036854775807 AS NUMERIC), CAST(2.5 AS NUMERIC), "
                     "CAST(99999999999999999999 AS NUMERIC)");
  EXPECT_EQ(n.rows[0].get<std::int64_t>(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(n.rows[0].get<double>(1), 2.5);
  EXPECT_EQ(n.rows[0].get<double>(2), 1e20);
}

TEST_P(TypesTest, time_and_datetime_server_defaults_without_seconds_load) {
  // SQLite stores a literal default as written: '09:30' did not load ("expected an ISO 8601
  // time"), so no row could be inserted without setting the member.
  db().register_models<Opening>();
  db().drop_all();
  db().create_all();
  auto& s = session();
  auto o = s.add(Opening{.shop = "a"});
  ASSERT_NO_THROW(s.commit());
  ASSERT_TRUE(o->opens.has_value());
  EXPECT_EQ(strata::to_iso(*o->opens), "09:30:00.000000");
  ASSERT_TRUE(o->since.has_value());
  EXPECT_EQ(strata::to_iso(*o->since), "2020-01-01 08:00:00.000000");
  s.expunge_all();
  auto back = s.query<Opening>().one();
  EXPECT_EQ(back->opens, o->opens);
  EXPECT_EQ(back->since, o->since);
}

// ---- unsigned integers ----------------------------------------------------------------------

class UnsignedTest : public TypesTest {
 protected:
  void SetUp() override {
    TypesTest::SetUp();
    db().register_models<Counters>();
    db().drop_all();
    db().create_all();
  }
};
INSTANTIATE_TEST_SUITE_P(backends, UnsignedTest, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

TEST_P(UnsignedTest, unsigned_integers_round_trip_their_whole_range) {
  // Each goes to a column that holds all its values: std::uint16_t's 65535 does not fit a
  // SMALLINT, nor std::uint32_t's 4294967295 an INTEGER (PostgreSQL refused them).
  constexpr std::uint64_t u64_max = std::numeric_limits<std::int64_t>::max();
  auto& s = session();
  std::vector<std::shared_ptr<Counters>> rows;
  for (const int n : {1, 3}) {  // one row, and several (a batched INSERT where there is one)
    for (int i = 0; i < n; ++i)
      rows.push_back(s.add(Counters{.u8 = 255, .u16 = 65535, .u32 = 4294967295u,
                                    .u64 = u64_max, .opt_u64 = u64_max - 1}));
    s.commit();
  }
  s.expunge_all();
  for (const auto& r : rows) {
    auto y = s.get<Counters>(r->id);
    ASSERT_TRUE(y);
    EXPECT_EQ(y->u8, 255);
    EXPECT_EQ(y->u16, 65535);
    EXPECT_EQ(y->u32, 4294967295u);
    EXPECT_EQ(y->u64, u64_max);
    EXPECT_EQ(y->opt_u64, u64_max - 1);
  }
  EXPECT_EQ(s.query<Counters>().filter(col(&Counters::u32) > std::uint32_t{4000000000u}).count(),
            4);
}

TEST_P(UnsignedTest, a_uint64_above_int64_max_is_refused_naming_the_column_never_wrapped) {
  constexpr std::uint64_t too_big = std::numeric_limits<std::uint64_t>::max();
  auto& s = session();
  auto expect_refused = [&](const char* column) {
    try {
      s.commit();
      ADD_FAILURE() << "a uint64 above INT64_MAX was written (as a negative number)";
    } catch (const strata::DataError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("cannot store column '") + column),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("18446744073709551615"), std::string::npos)
          << e.what();
    }
    s.rollback();
  };
  for (const int n : {1, 3}) {
    for (int i = 0; i < n; ++i) s.add(Counters{.u64 = too_big});
    expect_refused("counters.u64");
    for (int i = 0; i < n; ++i) s.add(Counters{.opt_u64 = too_big});
    expect_refused("counters.opt_u64");
  }
  auto kept = s.add(Counters{.u64 = 7});
  s.commit();
  kept->u64 = too_big;
  expect_refused("counters.u64");
  EXPECT_THROW(s.get<Counters>(too_big), strata::DataError)
      << "get() of a key no column holds looked up the key wrapped (-1)";
  s.rollback();
  s.expunge_all();
  auto r = s.execute("SELECT u64 FROM counters");
  ASSERT_EQ(r.size(), 1u) << "a refused row was written";
  EXPECT_EQ(r.rows[0].get<std::int64_t>(0), 7);
}

TEST_P(UnsignedTest, a_uint64_beyond_int64_max_compares_exactly_and_matches_no_stored_value) {
  // Compared, not stored: no error. Every stored integer is below it; PostgreSQL compared a
  // bigint with such a value in double precision, where 2^63 - 1 equals 2^63.
  constexpr std::uint64_t i64_max = std::numeric_limits<std::int64_t>::max();
  constexpr std::uint64_t two_63 = i64_max + 1;
  constexpr std::uint64_t too_big = std::numeric_limits<std::uint64_t>::max();
  auto& s = session();
  s.add(Counters{.u64 = i64_max});
  s.add(Counters{.u64 = 7});
  s.commit();
  auto count = [&](const auto& condition) { return s.query<Counters>().filter(condition).count(); };
  EXPECT_EQ(count(col(&Counters::u64) == too_big), 0);
  EXPECT_EQ(count(col(&Counters::u64) != too_big), 2);
  EXPECT_EQ(count(col(&Counters::u64) < too_big), 2);
  EXPECT_EQ(count(col(&Counters::u64) == two_63), 0) << "2^63 - 1 was compared as 2^63";
  EXPECT_EQ(count(col(&Counters::u64) < two_63), 2) << "2^63 - 1 was compared as 2^63";
  EXPECT_EQ(count(col(&Counters::u64) >= two_63), 0);
  EXPECT_EQ(count(col(&Counters::u64).between(std::uint64_t{0}, too_big)), 2);
  EXPECT_EQ(count(col(&Counters::u64).in_({too_big, std::uint64_t{7}})), 1);
  EXPECT_EQ(count(col(&Counters::id) < two_63), 2) << "an int64 column, a uint64 value";
  EXPECT_EQ(count(col(&Counters::u64) == i64_max), 1);
}

TEST_P(TypesTest, a_double_compared_with_an_integer_column_is_compared_exactly) {
  // 2^53 + 1 is no double: in double precision it equals 2^53.
  constexpr std::int64_t above = (std::int64_t{1} << 53) + 1;
  auto& s = session();
  s.add(Sample{.i64 = above});
  s.commit();
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::i64) > 9007199254740992.0).count(), 1);
  EXPECT_EQ(s.query<Sample>().filter(col(&Sample::i64) == 9007199254740992.0).count(), 0);
}

// ---- values the model cannot hold -----------------------------------------------------------

class LooseTablesTest : public TypesTest {
 protected:
  void SetUp() override {
    TypesTest::SetUp();
    create_loose_tables();
  }
  void TearDown() override {
    drop_loose_tables();
    TypesTest::TearDown();
  }
  // Raw INSERT INTO table (id, column) VALUES (1, value).
  void insert(const std::string& table, const std::string& column, strata::Value value) {
    session().execute("INSERT INTO " + table + " (id, " + column + ") VALUES (1, " + ph(1) + ")",
                      {std::move(value)});
    session().commit();
  }
  // The DataError of loading the rows of M, or "" when they load.
  template <class M>
  std::string load_error() {
    try {
      session().query<M>().all();
    } catch (const strata::DataError& e) {
      session().rollback();
      return e.what();
    }
    return "";
  }
};
INSTANTIATE_TEST_SUITE_P(backends, LooseTablesTest, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

TEST_P(LooseTablesTest, values_that_fit_load) {
  insert("loose_name", "name", std::string("ok"));
  insert("loose_small", "small", std::int64_t{-2147483648});
  EXPECT_EQ(load_error<StrictName>(), "");
  EXPECT_EQ(load_error<StrictSmall>(), "");
  EXPECT_EQ(session().query<StrictSmall>().one()->small, -2147483648);
}

TEST_P(LooseTablesTest, null_in_a_non_optional_member_is_a_data_error_naming_the_column) {
  insert("loose_name", "name", strata::null);
  auto error = load_error<StrictName>();
  ASSERT_NE(error, "") << "NULL loaded into a non-optional std::string without an error";
  EXPECT_NE(error.find("loose_name.name"), std::string::npos) << "column not named: " << error;
  EXPECT_NE(error.find("NULL"), std::string::npos) << error;
}

// A row that fails to load leaves nothing of itself in the session: once the row is fixed,
// its key loads as one object, which get() and the next query return again.
TEST_P(LooseTablesTest, after_a_row_failed_to_load_its_key_loads_as_one_object_once_fixed) {
  insert("loose_name", "name", strata::null);
  auto& s = session();
  EXPECT_THROW(s.query<StrictName>().all(), strata::DataError);
  s.rollback();
  s.execute("UPDATE loose_name SET name = 'fixed' WHERE id = 1");
  s.commit();
  auto all = s.query<StrictName>().all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->name, "fixed");
  EXPECT_EQ(s.get<StrictName>(1), all[0]) << "get() made a second object for the key";
  EXPECT_EQ(s.query<StrictName>().one(), all[0]) << "a query made a second object for the key";
}

// A row that fails to load on a column after its key leaves no half-loaded object to flush:
// the commit that follows writes nothing to it.
TEST_P(LooseTablesTest, a_row_that_failed_to_load_is_not_written_by_the_next_commit) {
  insert("loose_name", "name", strata::null);
  auto& s = session();
  EXPECT_THROW(s.query<StrictName>().all(), strata::DataError);
  s.commit();
  auto r = s.execute("SELECT name FROM loose_name WHERE id = 1");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(strata::is_null(r.rows[0][0])) << "the commit wrote the object that did not load";
  EXPECT_THROW(s.get<StrictName>(1), strata::DataError) << "get() found an object that did not load";
}

TEST_P(LooseTablesTest, text_in_an_integer_member_is_a_data_error_naming_the_column) {
  insert("loose_amount", "amount", std::string("not a number"));
  auto error = load_error<StrictAmount>();
  ASSERT_NE(error, "") << "text loaded into an int64 member without an error";
  EXPECT_NE(error.find("loose_amount.amount"), std::string::npos) << "not named: " << error;
  EXPECT_NE(error.find("not a number"), std::string::npos) << error;
}

TEST_P(LooseTablesTest, int32_out_of_range_is_a_data_error_naming_the_column) {
  insert("loose_small", "small", std::int64_t{5'000'000'000});
  auto error = load_error<StrictSmall>();
  ASSERT_NE(error, "") << "5000000000 loaded into an int32 member without an error";
  EXPECT_NE(error.find("loose_small.small"), std::string::npos) << "not named: " << error;
  EXPECT_NE(error.find("5000000000"), std::string::npos) << error;
}

}  // namespace
