// The migrations folder: reading and checking every versions/*.yaml (and *.yml), the graph they form, the
// schema state after a set of revisions, and writing new files without ever overwriting one.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/migrate/file.hpp"

namespace strata::migrate {

namespace fs = std::filesystem;

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw CommandError("cannot read '" + p.string() + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "add post table" -> "add_post_table", for file names.
std::string slug(const std::string& message) {
  std::string out;
  for (char c : message) {
    if (out.size() >= 40) break;
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}
}  // namespace

ScriptDirectory ScriptDirectory::load(const fs::path& directory) {
  const fs::path versions = directory / "versions";
  // The error_code forms throughout: a folder that cannot be read is a CommandError naming
  // it, never a std::filesystem_error.
  std::error_code ec;
  if (!fs::is_directory(versions, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw CommandError("cannot read the migrations folder '" + versions.string() +
                         "': " + ec.message());
    throw CommandError("no migrations folder '" + directory.string() +
                       "' (or its versions/ folder); run `db init` first, or pass -d DIR");
  }
  ScriptDirectory dir;
  dir.directory_ = directory;
  std::vector<fs::path> files;
  auto unreadable = [&] {
    return CommandError("cannot read the migrations folder '" + versions.string() +
                        "': " + ec.message());
  };
  fs::directory_iterator it(versions, ec);
  if (ec) throw unreadable();
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw unreadable();
    // Other files are not looked at (a broken link among them is no concern of ours), nor an
    // editor's lock file (Emacs's .#name.yaml, a link to nowhere).
    const auto ext = it->path().extension();
    if ((ext != ".yaml" && ext != ".yml") || it->path().filename().string().starts_with(".#"))
      continue;
    const bool regular = it->is_regular_file(ec);
    if (ec)
      throw CommandError("cannot read migration file '" + it->path().string() +
                         "': " + ec.message());
    if (regular) files.push_back(it->path());
  }
  if (ec) throw unreadable();
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string text = read_file(path);
    Migration m = parse(text, path.string());
    m.path = path.string();
    if (dir.migrations_.count(m.revision))
      throw RevisionError("revision '" + m.revision + "' is defined twice: in " +
                          dir.migrations_.at(m.revision).path + " and " + path.string());
    // What the migration runs, not what describes it: `lint_allow` (which lint findings its
    // author accepts), the message, `created` and the branch labels (Alembic's docs add a label
    // to an existing revision) may change on an applied migration without making it an edited
    // file. Ledgers written before keep older checksums, which an unchanged file still matches:
    // of the content but `lint_allow`, and of the file's whole text.
    Migration runs = m;
    runs.lint_allow.clear();
    auto& older = dir.older_checksums_[m.revision];
    older.push_back(migrate::checksum(render(runs)));
    older.push_back(migrate::checksum(text));
    runs.message.clear();
    runs.created.clear();
    runs.branch_labels.clear();
    dir.checksums_[m.revision] = migrate::checksum(render(runs));
    dir.migrations_.emplace(m.revision, std::move(m));
  }
  for (const auto& [id, m] : dir.migrations_) {
    for (const auto& r : m.replaces) {
      if (auto [at, fresh] = dir.replaced_by_.emplace(r, id); !fresh)
        throw RevisionError("revision '" + r + "' is replaced by two squashed migrations, " +
                            at->second + " (" + dir.migrations_.at(at->second).path + ") and " +
                            id + " (" + m.path + "); only one may list it in 'replaces'");
    }
  }
  for (const auto& [r, by] : dir.replaced_by_) {
    if (auto found = dir.migrations_.find(r); found != dir.migrations_.end() && !found->second.replaces.empty())
      throw RevisionError(by + " (" + dir.migrations_.at(by).path + ") replaces " + r +
                          ", itself a squashed migration; a squashed migration is not squashed "
                          "again");
  }
  dir.build_graph();
  return dir;
}

void ScriptDirectory::build_graph() {
  // Whether the graph holds revision r: not when a squashed migration stands for it, nor
  // when it is a squashed migration that stands back for the revisions it replaces.
  auto hidden = [&](const std::string& r) {
    if (unsquashed_.count(r)) return true;
    auto by = replaced_by_.find(r);
    return by != replaced_by_.end() && !unsquashed_.count(by->second);
  };
  std::vector<Revision> revisions;
  for (const auto& [id, m] : migrations_) {
    if (hidden(id)) continue;
    Revision r{id, m.down_revisions, m.branch_labels, m.message};
    for (auto& parent : r.down_revisions) {
      if (unsquashed_.count(parent)) {
        parent = migrations_.at(parent).replaces.back();
        continue;
      }
      auto by = replaced_by_.find(parent);
      if (by == replaced_by_.end() || unsquashed_.count(by->second)) continue;
      const Migration& squashed = migrations_.at(by->second);
      if (parent != squashed.replaces.back())
        throw RevisionError(m.path + ": its down_revision " + parent + " is one of the revisions "
                            "squashed into " + squashed.revision + ", not the last of them (" +
                            squashed.replaces.back() + "), so nothing says where it runs; write "
                            "the squash again to end at " + parent + " (delete " +
                            squashed.path + ", then `db squash ... " + parent + "`), or, if " +
                            id + " is applied nowhere yet, make its down_revision " +
                            squashed.revision);
      parent = squashed.revision;
    }
    revisions.push_back(std::move(r));
  }
  graph_ = RevisionGraph(std::move(revisions));
}

const Migration* ScriptDirectory::replaced_by(std::string_view revision) const {
  auto by = replaced_by_.find(revision);
  return by == replaced_by_.end() ? nullptr : &migrations_.at(by->second);
}

std::vector<std::string> ScriptDirectory::applied_revisions(
    const std::vector<std::string>& recorded) const {
  const std::set<std::string, std::less<>> rows(recorded.begin(), recorded.end());
  std::vector<std::string> ids;
  for (const auto& id : recorded)
    if (graph_.find(id)) ids.push_back(id);
  for (const auto& [id, m] : migrations_) {
    if (m.replaces.empty() || rows.count(id) || !graph_.find(id)) continue;
    if (std::all_of(m.replaces.begin(), m.replaces.end(),
                    [&](const std::string& r) { return rows.count(r); }))
      ids.push_back(id);
  }
  return ids;
}

std::string_view ScriptDirectory::for_graph(std::string_view spec) const {
  if (graph_.find(spec)) return spec;
  if (auto it = migrations_.find(spec); it != migrations_.end() && unsquashed_.count(it->first))
    return it->second.replaces.back();
  if (const Migration* squashed = replaced_by(spec)) {  // its file may be gone
    throw UnknownRevisionError("revision '" + std::string(spec) + "' is one of the revisions " +
                                   "squashed into " + squashed->revision + " (" + squashed->path +
                                   "); name " + squashed->revision + ", which stands for them all",
                               std::string(spec));
  }
  return spec;
}

std::vector<std::string> ScriptDirectory::resolve(std::string_view spec,
                                                  const std::vector<std::string>& current) const {
  return graph_.resolve(for_graph(spec), current);
}

std::string ScriptDirectory::resolve_one(std::string_view spec,
                                         const std::vector<std::string>& current) const {
  return graph_.resolve_one(for_graph(spec), current);
}

void ScriptDirectory::unsquash(const std::string& squashed) {
  const Migration& s = get(squashed);
  std::vector<std::string> missing;
  for (const auto& r : s.replaces)
    if (!migrations_.count(r)) missing.push_back(r);
  if (!missing.empty()) {
    std::string list;
    for (const auto& r : missing) list += (list.empty() ? "" : ", ") + r;
    throw CommandError("the database has applied some of the revisions squashed into " +
                       squashed + ", not all, and the files of " + list + " are gone; restore "
                       "them (e.g. from version control) to bring this database up to " +
                       squashed + ", or `db stamp` it where its schema is");
  }
  for (std::size_t i = 1; i < s.replaces.size(); ++i) {
    if (migrations_.at(s.replaces[i]).down_revisions != std::vector<std::string>{s.replaces[i - 1]})
      throw CommandError(squashed + " (" + s.path + ") replaces " + s.replaces[i] + ", whose "
                         "down_revision is not " + s.replaces[i - 1] + "; 'replaces' must list "
                         "a chain of revisions, oldest first");
  }
  unsquashed_.insert(squashed);
  build_graph();
}

const Migration& ScriptDirectory::get(const std::string& revision) const {
  auto it = migrations_.find(revision);
  if (it == migrations_.end())
    throw UnknownRevisionError("no migration file for revision '" + revision + "'", revision);
  return it->second;
}

const std::string& ScriptDirectory::checksum(const std::string& revision) const {
  get(revision);
  return checksums_.at(revision);
}

bool ScriptDirectory::unchanged(const std::string& revision, const std::string& recorded) const {
  if (recorded == checksum(revision)) return true;
  const auto& older = older_checksums_.at(revision);
  return std::find(older.begin(), older.end(), recorded) != older.end();
}

SchemaState ScriptDirectory::state_at(const std::vector<std::string>& applied) const {
  std::set<std::string> wanted(applied.begin(), applied.end());
  SchemaState state;
  state.set_checks(SchemaState::Checks::replay);
  for (const auto& id : graph_.topological_order()) {
    if (!wanted.count(id)) continue;
    const auto& m = get(id);
    try {
      state.apply(m.upgrade);
    } catch (const StateError& e) {
      throw StateError(m.path + ": " + e.what());
    }
  }
  state.set_checks(SchemaState::Checks::run);  // for what the caller applies on top
  return state;
}

fs::path ScriptDirectory::write(const Migration& m) const {
  std::string name = m.revision;
  if (auto s = slug(m.message); !s.empty()) name += "_" + s;
  const fs::path path = directory_ / "versions" / (name + ".yaml");
  const fs::path tmp = directory_ / "versions" / ("." + name + ".yaml.tmp");
  const std::string text = render(m);
  std::error_code ec;  // removing the temporary file: best effort
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw CommandError("cannot write '" + tmp.string() + "': " + std::strerror(errno));
  }
  // link() fails when the name exists: a file is never overwritten, even by a race.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp, ec);
    if (err == EEXIST) throw CommandError("'" + path.string() + "' already exists; not overwriting it");
    throw CommandError("cannot write '" + path.string() + "': " + std::strerror(err));
  }
  fs::remove(tmp, ec);
  return path;
}

}  // namespace strata::migrate
