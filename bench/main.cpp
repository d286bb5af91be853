// strata_bench: runs the workloads W1-W7 (docs/performance.md) through strata and through
// hand-written code on the backend's C API, in the same process, and prints their times,
// the ratio strata / raw, and the peak heap of W2 on each side. Not a test: nothing here
// asserts a time; it fails only when the two sides disagree about what they read or wrote.
//
//   strata_bench                      N = 100,000 on fresh SQLite files in a temporary folder
//   strata_bench -n 2000 --gets 500   smaller
//   strata_bench --url sqlite:////tmp/b.db --repeat 3 --csv results.csv
//   strata_bench --rounds 5 --repeat 3   the sequence 5 times: every workload's median of 5
//                                     runs or more
//   strata_bench --url 'postgresql:///strata_bench?host=/run/pg&port=5432&user=postgres'
//                                     databases strata_bench and strata_bench_raw, created
//                                     (dropped first) and dropped at the end
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "heap.hpp"
#include "workload.hpp"

namespace bench {

Dataset Dataset::make(int n, int gets, int like_queries, int posts_per_user, int lazy_users,
                      unsigned seed) {
  Dataset d;
  d.users.reserve(static_cast<std::size_t>(n));
  d.new_emails.reserve(static_cast<std::size_t>(n));
  for (int i = 1; i <= n; ++i) {
    const std::string id = std::to_string(i);
    User u;
    u.username = "user" + id;
    u.email = "user" + id + "@example.com";
    if (i % 4 == 0) u.about_me = "I am user " + id + ", and I write posts.";
    d.users.push_back(std::move(u));
    d.new_emails.push_back("user" + id + "@example.org");
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> any_user(1, n);
  for (int i = 0; i < gets; ++i) d.get_keys.push_back(any_user(rng));
  for (int i = 0; i < lazy_users; ++i) d.lazy_users.push_back(any_user(rng));
  d.like_pattern = "user1%";
  d.like_queries = like_queries;
  d.posts_per_user = posts_per_user;
  d.first_post = strata::DateTime{std::chrono::sys_days{std::chrono::year{2024} /
                                                        std::chrono::January / 1}};
  return d;
}

std::string Dataset::post_body(std::int64_t user_id, int j) const {
  return "post " + std::to_string(j + 1) + " of user " + std::to_string(user_id) +
         ": lorem ipsum dolor sit amet";
}

strata::DateTime Dataset::post_time(std::int64_t user_id, int j) const {
  return first_post + std::chrono::seconds((user_id - 1) * posts_per_user + j);
}

namespace {

using Clock = std::chrono::steady_clock;

struct Measure {
  double ms = 0;
  Check check;
};

// One timed run. The heap is not counted meanwhile (see peak_heap).
Measure measure(Side& side, Check (Side::*fn)(const Dataset&), const Dataset& d) {
  const auto start = Clock::now();
  Measure m;
  m.check = (side.*fn)(d);
  m.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return m;
}

// One more run, untimed, counting the heap: the most bytes it held at once.
std::int64_t peak_heap(Side& side, Check (Side::*fn)(const Dataset&), const Dataset& d) {
  heap::Window window;
  (side.*fn)(d);
  return window.peak();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Row {
  std::string id;     // W1 ... W7, W6a, W6b, W4tm
  std::string label;
  std::vector<double> raw_runs, strata_runs;  // each timed run, in the order run
  double raw_ms = 0;     // the medians of the runs
  double strata_ms = 0;
  std::int64_t raw_peak = 0;
  std::int64_t strata_peak = 0;
};

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  // glibc adjusts its mmap and trim thresholds as blocks are freed, so one side's frees
  // changed how the other side's next run was served: the raw side's W2 took 25 ms right
  // after W1 and 43-68 ms right after strata's W2 in the same process. Fixed thresholds
  // (the largest mmap threshold glibc takes; no trimming) keep the heap as a long-running
  // program's, the same for both sides and every run.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  CLI::App app{"strata_bench: the workloads W1-W7 through strata and through the raw C API"};
  int n = 100000, gets = 10000, queries = 1000, lazy = 1000, posts = 5, repeat = 1, rounds = 1;
  unsigned seed = 42;
  std::string url, csv;
  bool keep = false;
  app.add_option("-n,--users", n, "users to insert (N)")->check(CLI::Range(1, 100000000));
  app.add_option("--url", url,
                 "database URL for the strata side (the raw side uses a database of its own "
                 "next to it: for SQLite the same path + '-raw'; for PostgreSQL the same name + "
                 "'_raw' on the same server, both dropped, created, and dropped at the end "
                 "unless --keep); default: fresh SQLite files in a temporary folder");
  app.add_option("--gets", gets, "W3: get-by-primary-key calls")->check(CLI::NonNegativeNumber);
  app.add_option("--queries", queries, "W5: LIKE queries")->check(CLI::NonNegativeNumber);
  app.add_option("--posts-per-user", posts, "W6: posts per user")->check(CLI::NonNegativeNumber);
  app.add_option("--lazy", lazy, "W6: users whose posts are loaded lazily")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--repeat", repeat,
                 "runs of the read-only workloads (W2, W3, W5, W6b), the sides taking turns to "
                 "go first; the median is shown")
      ->check(CLI::Range(1, 100));
  app.add_option("--rounds", rounds,
                 "runs of the whole sequence W1-W7, each on tables dropped and created anew "
                 "(untimed); every workload then shows the median of its runs in all rounds, "
                 "the sides taking turns to go first")
      ->check(CLI::Range(1, 100));
  app.add_option("--seed", seed, "seed for the random keys");
  app.add_option("--csv", csv, "also write the table to this CSV file (for bench/plot.sh)");
  app.add_flag("--keep", keep, "keep the databases (the temporary folder, or the PostgreSQL ones)");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::path tmpdir;
  if (url.empty()) {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_bench.XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      std::perror("strata_bench: mkdtemp");
      return 2;
    }
    tmpdir = templ;
    url = "sqlite:///" + (tmpdir / "strata.db").string();
  }

  int status = 0;
  try {
    const Dataset d = Dataset::make(n, gets, queries, posts, lazy, seed);
    std::unique_ptr<PgDatabases> pg;
    std::unique_ptr<Side> raw;
    if (strata::engine::Url::parse(url).backend() == "postgresql") {
      pg = std::make_unique<PgDatabases>(url, keep);
      raw = make_raw_libpq_side(pg->raw_conninfo);
    } else {
      raw = make_raw_side(url);
    }
    auto orm = make_strata_side(url);
    // The sides close their connections before the databases are dropped.
    struct Close {
      std::unique_ptr<Side>& a;
      std::unique_ptr<Side>& b;
      ~Close() {
        a.reset();
        b.reset();
      }
    } close{raw, orm};
    raw->create_schema();
    orm->create_schema();

    std::printf("strata_bench: N = %d users, %d posts each; %s (raw side: %s)\n", n, posts,
                strata::engine::Url::parse(url).to_string().c_str(), raw->name().c_str());
    std::fflush(stdout);

    std::vector<Row> rows;  // in the order of their first runs
    auto run = [&](std::string id, std::string label, Check (Side::*fn)(const Dataset&),
                   bool repeatable, const Dataset* data = nullptr, bool heap = false) {
      auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.id == id; });
      const bool first_round = it == rows.end();
      if (first_round) {
        Row fresh;
        fresh.id = std::move(id);
        fresh.label = std::move(label);
        it = rows.insert(rows.end(), std::move(fresh));
      }
      Row& r = *it;
      const Dataset& input = data ? *data : d;
      const int runs = repeatable ? repeat : 1;
      for (int i = 0; i < runs; ++i) {
        // The sides take turns going first (strata in odd runs, counted over all rounds), so
        // that what a run leaves behind (the heap, the caches, a server's background work)
        // does not always fall on the same side.
        const bool strata_first = r.raw_runs.size() % 2 == 1;
        Measure b;
        if (strata_first) b = measure(*orm, fn, input);
        const Measure a = measure(*raw, fn, input);
        if (!strata_first) b = measure(*orm, fn, input);
        if (!(a.check == b.check)) {
          std::fprintf(stderr,
                       "strata_bench: %s: the sides disagree: raw read/wrote %lld rows "
                       "(checksum %lld), strata %lld rows (checksum %lld)\n",
                       r.id.c_str(), static_cast<long long>(a.check.rows),
                       static_cast<long long>(a.check.sum), static_cast<long long>(b.check.rows),
                       static_cast<long long>(b.check.sum));
          status = 1;
        }
        r.raw_runs.push_back(a.ms);
        r.strata_runs.push_back(b.ms);
      }
      if (heap && first_round && heap::counting()) {
        r.raw_peak = peak_heap(*raw, fn, input);
        r.strata_peak = peak_heap(*orm, fn, input);
      }
      r.raw_ms = median(r.raw_runs);
      r.strata_ms = median(r.strata_runs);
      std::printf("  %-5s done: raw %.1f ms, strata %.1f ms", r.id.c_str(), r.raw_ms,
                  r.strata_ms);
      if (r.raw_runs.size() > 1) {  // each run's ratio, for the spread behind the medians
        std::printf(" (ratios:");
        for (std::size_t i = 0; i < r.raw_runs.size(); ++i)
          std::printf(" %.2f", r.raw_runs[i] > 0 ? r.strata_runs[i] / r.raw_runs[i] : 0.0);
        std::printf(")");
      }
      std::printf("\n");
      std::fflush(stdout);
    };
    auto settle = [&] {  // untimed, between the bulk writes and the reads after them
      raw->settle();
      orm->settle();
    };
    const std::string sn = std::to_string(n);
    Dataset again = d;  // W4tm: W4 once more, to other emails
    for (std::size_t i = 0; i < again.new_emails.size(); ++i)
      again.new_emails[i] = "user" + std::to_string(i + 1) + "@example.net";
    for (int round = 0; round < rounds; ++round) {
      if (rounds > 1) std::printf("round %d of %d\n", round + 1, rounds);
      if (round > 0) {  // untimed: W7 left the tables empty; they start anew
        raw->create_schema();
        orm->create_schema();
      }
      run("W1", "insert " + sn + " users, one commit", &Side::w1_insert_users, false);
      run("W2", "load all " + sn + " users", &Side::w2_load_users, true, nullptr, true);
      run("W3", std::to_string(gets) + " get by primary key, fresh session",
          &Side::w3_get_by_key, true);
      run("W4", "load all, change each email, commit", &Side::w4_update_emails, false);
      run("W4tm", "W4 with track_modifications + models_committed",
          &Side::w4_update_emails_tracked, false, &again);
      settle();
      run("W5", std::to_string(queries) + "x LIKE 'user1%' ORDER BY DESC LIMIT 20",
          &Side::w5_like_queries, true);
      run("W6a", "insert " + std::to_string(posts) + " posts per user, one commit",
          &Side::w6a_insert_posts, false);
      settle();
      // W6b reads only, in a fresh session each run: repeated like W2, W3 and W5. A single
      // run is about 12 ms on SQLite, short enough for the machine's noise to move it by half.
      run("W6b", std::to_string(lazy) + " users: get, then posts lazily",
          &Side::w6b_lazy_posts, true);
      run("W7", "bulk delete posts, then users", &Side::w7_bulk_delete, false);
    }

    // W6 is reported as its two halves and their sum.
    auto w6a = std::find_if(rows.begin(), rows.end(), [](auto& r) { return r.id == "W6a"; });
    Row w6;  // (the sum of the halves' medians)
    w6.id = "W6";
    w6.label = "W6a + W6b";
    w6.raw_ms = w6a->raw_ms + (w6a + 1)->raw_ms;
    w6.strata_ms = w6a->strata_ms + (w6a + 1)->strata_ms;
    rows.insert(w6a, std::move(w6));

    std::printf("\n%-5s %-48s %10s %10s %8s\n", "", "workload", "raw ms", "strata ms",
                "ratio");
    for (const auto& r : rows)
      std::printf("%-5s %-48s %10.1f %10.1f %8.2f\n", r.id.c_str(), r.label.c_str(), r.raw_ms,
                  r.strata_ms, r.raw_ms > 0 ? r.strata_ms / r.raw_ms : 0.0);
    const auto& w2 = rows[1];
    const double mib = 1024.0 * 1024.0;
    if (heap::counting())
      std::printf("\nW2 peak heap (the most bytes of the blocks it allocated with malloc, held "
                  "at once: its objects,\nthe library's and the driver's, the database's "
                  "result buffers; measured in one more, untimed\nrun of each side):\n"
                  "     raw %.1f MiB, strata %.1f MiB, ratio %.2f\n",
                  w2.raw_peak / mib, w2.strata_peak / mib,
                  w2.raw_peak > 0 ? static_cast<double>(w2.strata_peak) / w2.raw_peak : 0.0);
    else
      std::printf("\nW2 peak heap: not measured (a sanitizer build keeps its own malloc)\n");

    if (!csv.empty()) {
      std::ofstream out(csv);
      out << "workload,label,raw_ms,strata_ms,ratio\n";
      for (const auto& r : rows)
        out << r.id << ",\"" << r.label << "\"," << r.raw_ms << ',' << r.strata_ms << ','
            << (r.raw_ms > 0 ? r.strata_ms / r.raw_ms : 0.0) << '\n';
      if (heap::counting())
        out << "W2mem,\"W2 peak heap (MiB)\"," << w2.raw_peak / mib << ','
            << w2.strata_peak / mib << ','
            << (w2.raw_peak > 0 ? static_cast<double>(w2.strata_peak) / w2.raw_peak : 0.0)
            << '\n';
      if (!out) throw std::runtime_error("cannot write " + csv);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_bench: %s\n", e.what());
    status = 1;
  }
  if (!tmpdir.empty()) {
    if (keep) std::printf("databases kept in %s\n", tmpdir.c_str());
    else std::filesystem::remove_all(tmpdir);
  }
  return status;
}
