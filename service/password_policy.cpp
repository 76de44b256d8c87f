#include "service/password_policy.hpp"

#include <pwquality.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/user.hpp"
#include "eventstore/passwords.hpp"

namespace tl {
namespace {

// Only the dictionary decides: every composition and similarity rule of pwquality is off (its
// palindrome test cannot be switched off, and stays).
pwquality_settings_t* settings() {
  static const std::unique_ptr<pwquality_settings_t, void (*)(pwquality_settings_t*)> s = [] {
    std::unique_ptr<pwquality_settings_t, void (*)(pwquality_settings_t*)> made(pwquality_default_settings(),
                                                                                pwquality_free_settings);
    if (!made) throw std::runtime_error("libpwquality cannot start");
    for (const char* option : {"minlen=6", "dcredit=0", "ucredit=0", "lcredit=0", "ocredit=0", "minclass=0",
                               "maxrepeat=0", "maxclassrepeat=0", "maxsequence=0", "gecoscheck=0", "dictcheck=1",
                               "usercheck=0", "difok=0", "enforcing=1"}) {
      if (pwquality_set_option(made.get(), option) != 0) {
        throw std::runtime_error(std::string("libpwquality refuses the option ") + option);
      }
    }
    return made;
  }();
  return s.get();
}

// The word a common password is built from: lower case, without trailing digits and symbols
// ("Password1234!" -> "password"), and one unit of a repetition ("passwordpassword" -> "password",
// "trustno1trustno1" -> "trustno1"). cracklib only knows the words themselves, not these common
// manglings (NIST SP 800-63B §5.1.1.2: "dictionary words", "repetitive characters").
std::vector<std::string> cores(std::string_view password) {
  std::string lower(password);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> found;
  auto add = [&](std::string word) {
    if (word.size() >= 6 && word != password && std::find(found.begin(), found.end(), word) == found.end()) {
      found.push_back(std::move(word));
    }
  };
  for (std::size_t unit = 1; unit <= lower.size() / 2; ++unit) {
    if (lower.size() % unit != 0) continue;
    bool repeats = true;
    for (std::size_t i = unit; i < lower.size() && repeats; ++i) repeats = lower[i] == lower[i - unit];
    if (repeats) {
      add(lower.substr(0, unit));
      break;
    }
  }
  std::string stem = lower;
  while (!stem.empty() && !std::isalpha(static_cast<unsigned char>(stem.back()))) stem.pop_back();
  add(stem);
  add(lower);
  return found;
}

}  // namespace

Status check_new_password(std::string_view password, std::string_view field) {
  const std::string name(field);
  if (auto length = validate_password(password); !length) {
    // The domain names the field "password"; a request may call it otherwise ("new").
    return Error::invalid_field(name + length.error().message.substr(length.error().message.find(':')));
  }
  const std::string copy(password);  // needs a terminating NUL
  // cracklib keeps the open dictionary in static state: one check at a time.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  void* aux = nullptr;
  const int score = pwquality_check(settings(), copy.c_str(), nullptr, nullptr, &aux);
  if (score >= 0) {
    for (const std::string& core : cores(password)) {
      aux = nullptr;
      if (pwquality_check(settings(), core.c_str(), nullptr, nullptr, &aux) == PWQ_ERROR_CRACKLIB_CHECK) {
        return Error::invalid_field(name + ": it is a common password with digits, symbols or a repetition added.");
      }
    }
    return {};
  }
  char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
  const std::string why = pwquality_strerror(buf, sizeof buf, score, aux);
  if (score == PWQ_ERROR_CRACKLIB_CHECK && why.find("error loading dictionary") != std::string::npos) {
    return Error::internal("The password dictionary cannot be read (install cracklib-runtime).");
  }
  if (score == PWQ_ERROR_CRACKLIB_CHECK) return Error::invalid_field(name + ": it is in a list of common passwords.");
  return Error::invalid_field(name + ": too easy to guess (" + why + ").");
}

std::string random_acceptable_password() {
  std::string chosen = random_password();
  for (int i = 0; i < 8 && !check_new_password(chosen); ++i) chosen = random_password();
  return chosen;
}

}  // namespace tl
