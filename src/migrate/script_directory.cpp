// The migrations folder: reading and checking every versions/*.yaml (and *.yml), the graph they form, the
// schema state after a set of revisions, and writing new files without ever overwriting one.
#include <fcntl.h>
#include <unistd.h>

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
    const bool regular = it->is_regular_file(ec);
    if (ec) throw unreadable();
    const auto ext = it->path().extension();
    if (regular && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
  }
  if (ec) throw unreadable();
  std::sort(files.begin(), files.end());
  std::vector<Revision> revisions;
  for (const auto& path : files) {
    std::string text = read_file(path);
    Migration m = parse(text, path.string());
    m.path = path.string();
    if (dir.migrations_.count(m.revision))
      throw RevisionError("revision '" + m.revision + "' is defined twice: in " +
                          dir.migrations_.at(m.revision).path + " and " + path.string());
    revisions.push_back({m.revision, m.down_revisions, m.branch_labels, m.message});
    // What the migration runs, not which lint findings its author accepts: `lint_allow`
    // added to an applied migration does not make it an edited file.
    Migration runs = m;
    runs.lint_allow.clear();
    dir.checksums_[m.revision] = migrate::checksum(render(runs));
    dir.text_checksums_[m.revision] = migrate::checksum(text);
    dir.migrations_.emplace(m.revision, std::move(m));
  }
  dir.graph_ = RevisionGraph(std::move(revisions));
  return dir;
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
  return recorded == checksum(revision) || recorded == text_checksums_.at(revision);
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
