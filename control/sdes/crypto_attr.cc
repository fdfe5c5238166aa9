#include "control/sdes/crypto_attr.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "control/words.h"

namespace rtprelay::sdes {

namespace {

constexpr std::string_view srtcp_param = "UNENCRYPTED_SRTCP";
constexpr uint32_t lifetime_2_31 = 31;  // exponent written for NG SDES-lifetime

// Untrusted text quoted in a reason: at most 40 characters, control characters and
// non-ASCII bytes shown as '?', so a reply or log line cannot be broken by it.
std::string quote(std::string_view s) {
    std::string out;
    const size_t n = std::min<size_t>(s.size(), 40);
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x21 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (s.size() > n) {
        out += "...";
    }
    return out;
}

// Decimal digits only; nullopt on anything else or on overflow of uint64_t.
std::optional<uint64_t> decimal(std::string_view s) {
    if (!is_digits(s)) {
        return std::nullopt;
    }
    uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

class line_error {
 public:
    line_error(std::string* out, std::string_view tag) : out_(out), tag_(tag) {}
    std::nullopt_t operator()(const std::string& why) const {
        if (out_ != nullptr) {
            *out_ = "a=crypto tag " + quote(tag_) + ": " + why;
        }
        return std::nullopt;
    }

 private:
    std::string* out_;
    std::string_view tag_;
};

// key || salt (key_salt_bytes(s) bytes, as after "inline:") split into a master_key.
master_key key_of_bytes(const unsigned char* raw, suite s) {
    const dp::srtp::suite_info& si = dp::srtp::info(s);
    master_key k{};
    std::copy_n(raw, si.master_key_len, k.key.begin());
    std::copy_n(raw + si.master_key_len, si.master_salt_len, k.salt.begin());
    return k;
}

// Decodes standard base64 of exactly key_salt_bytes(s). The length is worked out from the
// text first (so a wrong length is reported as such, not as "bad base64"), then
// EVP_DecodeBlock does the work in one call on the unpadded characters filled up with 'A'
// to a multiple of 4: it needs whole groups and counts '=' as data, so padding never
// reaches it; the bytes the filling adds come after the key and are not taken.
std::optional<master_key> decode_key(std::string_view text, suite s, const line_error& fail) {
    size_t pad = 0;
    while (pad < text.size() && text[text.size() - 1 - pad] == '=') {
        ++pad;
    }
    const std::string_view data = text.substr(0, text.size() - pad);
    if (data.empty() || !std::all_of(data.begin(), data.end(), is_base64_char) || pad > 2 ||
        (pad > 0 && (data.size() + pad) % 4 != 0) || data.size() % 4 == 1) {
        return fail("key is not valid base64");
    }
    const size_t rest = data.size() % 4;
    const size_t bytes = data.size() / 4 * 3 + (rest == 0 ? 0 : rest - 1);
    const size_t want = key_salt_bytes(s);
    if (bytes != want) {
        return fail("key is " + std::to_string(bytes) + " bytes, " + std::string(suite_name(s)) + " needs " +
                    std::to_string(want));
    }
    // The length check above bounds data.size() by the largest key's characters.
    char text_buf[(max_key_salt_bytes + 2) / 3 * 4];
    const size_t groups = (data.size() + 3) / 4 * 4;
    std::fill_n(std::copy(data.begin(), data.end(), text_buf), groups - data.size(), 'A');
    unsigned char raw[sizeof text_buf / 4 * 3];
    const int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(text_buf), static_cast<int>(groups));
    OPENSSL_cleanse(text_buf, sizeof text_buf);
    if (n != static_cast<int>(groups / 4 * 3)) {
        OPENSSL_cleanse(raw, sizeof raw);
        return fail("key is not valid base64");
    }
    const master_key k = key_of_bytes(raw, s);
    OPENSSL_cleanse(raw, sizeof raw);
    return k;
}

// "<value>:<length>" (RFC 4568 9.2: decimal MKI value, length in bytes). Writes the MKI into
// *k, or the reason into `fail`.
bool parse_mki(std::string_view text, master_key* k, const line_error& fail) {
    const size_t colon = text.find(':');
    const auto value = decimal(text.substr(0, colon));
    const auto length = text.size() - colon - 1 <= 3 ? decimal(text.substr(colon + 1)) : std::nullopt;
    if (!value || !length || *length == 0 || *length > 128) {
        fail("MKI '" + quote(text) + "' is not <value>:<length 1..128>");
        return false;
    }
    if (*length > max_mki_len) {
        fail("MKI length " + std::to_string(*length) + " is not supported (1 to " + std::to_string(max_mki_len) +
             " bytes)");
        return false;
    }
    if (*value >> (8 * *length) != 0) {
        fail("MKI value " + quote(text.substr(0, colon)) + " does not fit in " + std::to_string(*length) + " bytes");
        return false;
    }
    k->mki_len = static_cast<uint8_t>(*length);
    for (size_t i = 0; i < *length; ++i) {
        k->mki[i] = static_cast<uint8_t>(*value >> (8 * (*length - 1 - i)));
    }
    return true;
}

// Null (with the reason written) when the lifetime is not acceptable.
std::optional<uint64_t> parse_lifetime(std::string_view text, const line_error& fail) {
    uint64_t v = 0;
    if (text.starts_with("2^")) {
        const auto e = decimal(text.substr(2));
        if (!e) {
            return fail("lifetime '" + quote(text) + "' is not a number or 2^n");
        }
        if (*e > 48) {
            return fail("lifetime " + quote(text) + " is above 2^48");
        }
        v = uint64_t{1} << *e;
    } else if (is_digits(text)) {
        const auto d = decimal(text);
        if (!d || *d > max_lifetime) {
            return fail("lifetime " + quote(text) + " is above 2^48");
        }
        v = *d;
    } else {
        return fail("lifetime '" + quote(text) + "' is not a number or 2^n");
    }
    if (v == 0) {
        return fail("lifetime 0 is not valid");
    }
    return v;
}

}  // namespace

bool same_key(const master_key& a, const master_key& b) {
    return a.key == b.key && a.salt == b.salt && a.mki_len == b.mki_len && a.mki == b.mki;
}

std::optional<crypto_attr> parse_crypto(std::string_view value, const parse_options& opt, std::string* error) {
    const std::vector<std::string_view> words = split_words(value);
    if (words.size() < 3) {
        if (error != nullptr) {
            *error =
                "a=crypto: expected '<tag> <suite> inline:<key>', got " + std::to_string(words.size()) + " field(s)";
        }
        return std::nullopt;
    }
    const line_error fail(error, words[0]);
    crypto_attr a;
    const auto tag = words[0].size() <= 9 ? decimal(words[0]) : std::nullopt;
    if (!tag || *tag == 0 || *tag > max_tag) {
        return fail("tag is not a number 1.." + std::to_string(max_tag));
    }
    a.tag = static_cast<uint32_t>(*tag);

    const auto s = suite_from_sdes_name(words[1]);
    if (!s) {
        return fail("suite " + quote(words[1]) + " is not supported");
    }
    a.crypto_suite = *s;

    const std::string_view key_params = words[2];
    if (key_params.find(';') != std::string_view::npos) {
        return fail("several keys (key;key) are not supported");
    }
    constexpr std::string_view method = "inline:";
    if (!key_params.starts_with(method)) {
        const size_t colon = key_params.find(':');
        return fail("key method '" + quote(key_params.substr(0, colon)) + "' is not supported (only inline)");
    }
    // key||salt ["|" lifetime] ["|" mki ":" length]
    std::vector<std::string_view> fields;
    std::string_view info = key_params.substr(method.size());
    for (size_t bar; (bar = info.find('|')) != std::string_view::npos;) {
        fields.push_back(info.substr(0, bar));
        info = info.substr(bar + 1);
    }
    fields.push_back(info);
    if (fields.size() > 3) {
        return fail("key has more than lifetime and MKI after it");
    }
    std::optional<std::string_view> lifetime_text;
    std::optional<std::string_view> mki_text;
    for (size_t i = 1; i < fields.size(); ++i) {
        if (fields[i].find(':') != std::string_view::npos) {
            if (!opt.allow_mki) {
                return fail("MKI is not supported");
            }
            if (mki_text) {
                return fail("key has two MKIs");
            }
            mki_text = fields[i];
            continue;
        }
        if (lifetime_text || mki_text) {
            return fail(mki_text ? "lifetime after the MKI" : "key has two lifetimes");
        }
        lifetime_text = fields[i];
    }
    auto key = decode_key(fields[0], a.crypto_suite, fail);
    if (!key) {
        return std::nullopt;
    }
    a.key = *key;
    if (mki_text && !parse_mki(*mki_text, &a.key, fail)) {
        return std::nullopt;
    }
    if (lifetime_text) {
        a.lifetime = parse_lifetime(*lifetime_text, fail);
        if (!a.lifetime) {
            return std::nullopt;
        }
    }

    for (size_t i = 3; i < words.size(); ++i) {
        const std::string_view p = words[i];
        if (p == srtcp_param) {
            if (!opt.allow_unencrypted_srtcp) {
                return fail("UNENCRYPTED_SRTCP is not allowed by the interface's SRTP policy");
            }
            a.unencrypted_srtcp = true;
        } else if (p == "FEC_ORDER=FEC_SRTP") {
            // RFC 4568 6.3.5: FEC before SRTP on send, the default when the parameter is
            // absent. The relay does no FEC, so the order changes nothing it does.
        } else if (p.starts_with("WSH=")) {
            // Replay window hint (RFC 4568 6.3.7): a hint, at least 64; ignoring it is allowed.
            const auto w = decimal(p.substr(4));
            if (!w || *w < 64) {
                return fail("session parameter " + quote(p) + " is not valid (WSH is at least 64)");
            }
        } else if (p.find("inline:") != std::string_view::npos) {
            // FEC_KEY (RFC 4568 6.3.6) carries a key of its own: named, never quoted.
            return fail("session parameter " + quote(p.substr(0, p.find('='))) + "=<...> is not supported");
        } else {
            return fail("session parameter " + quote(p) + " is not supported");
        }
    }
    return a;
}

std::string format_crypto(const crypto_attr& a, const format_options& opt) {
    const dp::srtp::suite_info& si = dp::srtp::info(a.crypto_suite);
    unsigned char raw[max_key_salt_bytes];
    std::copy_n(a.key.key.begin(), si.master_key_len, raw);
    std::copy_n(a.key.salt.begin(), si.master_salt_len, raw + si.master_key_len);
    char b64[(max_key_salt_bytes + 2) / 3 * 4 + 1];
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64), raw, static_cast<int>(key_salt_bytes(a.crypto_suite)));
    OPENSSL_cleanse(raw, sizeof raw);
    std::string_view text(b64, static_cast<size_t>(n));
    if (!opt.pad) {
        while (!text.empty() && text.back() == '=') {
            text.remove_suffix(1);
        }
    }
    std::string out = std::to_string(a.tag);
    out += ' ';
    out += suite_name(a.crypto_suite);
    out += " inline:";
    out += text;
    OPENSSL_cleanse(b64, sizeof b64);
    if (a.lifetime) {
        const uint64_t v = *a.lifetime;
        out += '|';
        if ((v & (v - 1)) == 0) {
            out += "2^" + std::to_string(__builtin_ctzll(v));
        } else {
            out += std::to_string(v);
        }
    } else if (opt.lifetime) {
        out += "|2^" + std::to_string(lifetime_2_31);
    }
    if (a.key.mki_len != 0) {
        uint64_t v = 0;
        for (size_t i = 0; i < a.key.mki_len; ++i) {
            v = (v << 8) | a.key.mki[i];
        }
        out += '|' + std::to_string(v) + ':' + std::to_string(a.key.mki_len);
    }
    if (a.unencrypted_srtcp) {
        out += ' ';
        out += srtcp_param;
    }
    return out;
}

namespace {

// Keys come from OpenSSL's CSPRNG 32 at a time: one RAND_bytes call costs ~1,100
// instructions however few bytes it returns, and a new SRTP call takes 2-3 keys
// (~7% of an SRTP offer+answer pair). Bytes are wiped as they are handed out; the pool
// is per thread and emptied in a forked child, so no key is ever handed out twice.
struct key_pool {
    static constexpr size_t keys = 32;  // of the largest
    unsigned char bytes[keys * max_key_salt_bytes];
    size_t next = keys * max_key_salt_bytes;  // empty

    ~key_pool() { OPENSSL_cleanse(bytes, sizeof bytes); }
    void drop() {
        OPENSSL_cleanse(bytes, sizeof bytes);
        next = sizeof bytes;
    }
};

thread_local key_pool pool;

void drop_pool_in_child() { pool.drop(); }

const bool atfork_registered = pthread_atfork(nullptr, nullptr, drop_pool_in_child) == 0;

}  // namespace

master_key random_key(suite s) {
    (void)atfork_registered;
    const size_t want = key_salt_bytes(s);
    if (pool.next + want > sizeof pool.bytes) {
        if (RAND_bytes(pool.bytes, static_cast<int>(sizeof pool.bytes)) != 1) {
            pool.drop();
            throw std::runtime_error("could not generate an SRTP key: RAND_bytes failed");
        }
        pool.next = 0;
    }
    unsigned char* raw = pool.bytes + pool.next;
    const master_key k = key_of_bytes(raw, s);
    OPENSSL_cleanse(raw, want);
    pool.next += want;
    return k;
}

void set_our_mki(master_key& k, uint8_t len) {
    k.mki = {};
    k.mki_len = len;
    if (len != 0) {
        k.mki[len - 1] = 1;
    }
}

crypto_attr fresh_attr(uint32_t tag, suite s, bool unencrypted_srtcp) {
    crypto_attr a;
    a.tag = tag;
    a.crypto_suite = s;
    a.key = random_key(s);
    a.unencrypted_srtcp = unencrypted_srtcp;
    return a;
}

}  // namespace rtprelay::sdes
