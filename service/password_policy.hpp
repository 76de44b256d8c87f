// The rules a new or changed password must pass (NIST SP 800-63B §5.1.1.2: a length and a
// blocklist, no composition rules): at least 12 characters (Unicode code points), at most
// kMaxPasswordLength bytes, and not in the dictionary of libpwquality / cracklib (its
// "dictionary check": common passwords and words, also reversed or with a few substitutions).
// The dictionary is a file (/var/cache/cracklib/cracklib_dict.*, Debian cracklib-runtime), so
// the check lives here and not in domain/.
#pragma once

#include <string_view>

#include "domain/result.hpp"

namespace tl {

// invalid_field naming the field and the rule ("password: at least 12 characters.",
// "password: it is in a list of common passwords."); internal when the dictionary cannot be read
// (refusing every password is safer than accepting unchecked ones). `field` names the JSON field.
Status check_new_password(std::string_view password, std::string_view field = "password");

// A generated password (20 base62 characters, ~119 random bits) that check_new_password accepts:
// the dictionary check refuses a random draw all but never, and such a draw is redrawn (at most
// 8 times). For the first admin and the admin tool's `user add` and `user passwd`.
std::string random_acceptable_password();

}  // namespace tl
