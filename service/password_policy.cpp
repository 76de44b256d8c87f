#include "service/password_policy.hpp"

#include <pwquality.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "domain/user.hpp"

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
  if (score >= 0) return {};
  char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
  const std::string why = pwquality_strerror(buf, sizeof buf, score, aux);
  if (score == PWQ_ERROR_CRACKLIB_CHECK && why.find("error loading dictionary") != std::string::npos) {
    return Error::internal("The password dictionary cannot be read (install cracklib-runtime).");
  }
  if (score == PWQ_ERROR_CRACKLIB_CHECK) return Error::invalid_field(name + ": it is in a list of common passwords.");
  return Error::invalid_field(name + ": too easy to guess (" + why + ").");
}

}  // namespace tl
