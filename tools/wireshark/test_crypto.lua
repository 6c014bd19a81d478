-- Checks the dissector's pure-Lua crypto against vectors that libsodium computed
-- (make_vectors.cpp). Runs under a plain Lua 5.2 interpreter (5.3/5.4 too), outside Wireshark:
--
--   lua5.2 test_crypto.lua path/to/natter.lua path/to/vectors.txt
--
-- natter.lua returns its crypto table when loaded where Wireshark's `Proto` does not exist,
-- so the single plugin file is what gets tested, not a copy.
local plugin_path, vectors_path = arg[1], arg[2]
if not plugin_path or not vectors_path then
  io.stderr:write("usage: lua5.2 test_crypto.lua NATTER_LUA VECTORS_FILE\n")
  os.exit(2)
end

local crypto = dofile(plugin_path)
assert(type(crypto) == "table" and crypto.box_open_afternm, "natter.lua did not return its crypto")

local passed, failed = 0, 0
local function check(ok, what)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAIL: " .. what .. "\n")
  end
end

local function unhex(h)
  if h == "-" then return "" end
  local b = crypto.fromhex(h)
  assert(b, "bad hex in vectors: " .. h:sub(1, 40))
  return b
end

local function flip(s, i)  -- flips the low bit of byte i (1-based)
  local b = s:byte(i)
  return s:sub(1, i - 1) .. string.char(b % 2 == 0 and b + 1 or b - 1) .. s:sub(i + 1)
end

local counts = {}
local lineno = 0
for line in io.lines(vectors_path) do
  lineno = lineno + 1
  if line ~= "" and line:sub(1, 1) ~= "#" then
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    local kind = f[1]
    local where = kind .. " (line " .. lineno .. ")"
    counts[kind] = (counts[kind] or 0) + 1
    if kind == "sha256" then
      check(crypto.tohex(crypto.sha256(unhex(f[2]))) == f[3], where)
    elseif kind == "fingerprint" then
      check(crypto.fingerprint(unhex(f[2])) == f[3], where)
    elseif kind == "fingerprint2" then
      check(crypto.server_fingerprint_v2(unhex(f[2])) == f[3], where)
    elseif kind == "hsalsa20" then
      check(crypto.tohex(crypto.hsalsa20(unhex(f[2]), unhex(f[3]))) == f[4], where)
    elseif kind == "beforenm" then
      check(crypto.tohex(crypto.beforenm_from_shared(unhex(f[2]))) == f[3], where)
    elseif kind == "stream" then
      local want = unhex(f[4])
      check(crypto.xsalsa20_stream(unhex(f[2]), unhex(f[3]), #want) == want, where)
    elseif kind == "onetimeauth" then
      check(crypto.tohex(crypto.poly1305(unhex(f[3]), unhex(f[2]))) == f[4], where)
    elseif kind == "box" then
      local key, nonce, msg, box = unhex(f[2]), unhex(f[3]), unhex(f[4]), unhex(f[5])
      check(crypto.box_seal_afternm(msg, nonce, key) == box, where .. " seal")
      check(crypto.box_open_afternm(box, nonce, key) == msg, where .. " open")
      -- Tamper checks, as in libsodium's own box_easy test: any flipped bit must fail to open.
      check(crypto.box_open_afternm(flip(box, 1), nonce, key) == nil, where .. " tampered MAC")
      check(crypto.box_open_afternm(flip(box, 16), nonce, key) == nil, where .. " tampered MAC end")
      if #box > 16 then
        check(crypto.box_open_afternm(flip(box, #box), nonce, key) == nil,
          where .. " tampered ciphertext")
      end
      check(crypto.box_open_afternm(box, flip(nonce, 24), key) == nil, where .. " wrong nonce")
      check(crypto.box_open_afternm(box, nonce, flip(key, 1)) == nil, where .. " wrong key")
      check(crypto.box_open_afternm(box:sub(1, 15), nonce, key) == nil, where .. " short box")
    elseif kind == "unpad" then
      local got = crypto.unpad(unhex(f[3]), tonumber(f[2]))
      if f[4] == "fail" then
        check(got == nil, where .. " must fail")
      else
        check(got == unhex(f[4]), where)
      end
    elseif kind == "session2" then
      local key, dir, counter, plain, body = unhex(f[2]), tonumber(f[3]), f[4], unhex(f[5]), unhex(f[6])
      local status, got = crypto.open_session_v2(body, key)
      check(status == "ok" and got == plain, where .. " open")
      check(body:byte(1) == dir and body:sub(2, 16) == string.rep("\0", 15), where .. " nonce layout")
      local c = 0
      for i = 17, 24 do c = c * 256 + body:byte(i) end
      -- Counters near 2^64 are not exact in a double; compare the top digits only there.
      check(string.format("%.0f", c):sub(1, 12) == counter:sub(1, 12), where .. " counter")
      check((#body - 40) % 128 == 0 and #body >= 168, where .. " whole blocks")
      check(crypto.open_session_v2(flip(body, 25), key) == "bad_mac", where .. " tampered MAC")
      check(crypto.open_session_v2(flip(body, #body), key) == "bad_mac", where .. " tampered ciphertext")
      check(crypto.open_session_v2(flip(body, 24), key) == "bad_mac", where .. " tampered counter")
      check(crypto.open_session_v2(body, flip(key, 32)) == "bad_mac", where .. " wrong key")
      -- The key is used as is: opening under HSalsa20(key, 0) (a second beforenm) must fail.
      check(crypto.open_session_v2(body, crypto.beforenm_from_shared(key)) == "bad_mac",
        where .. " key used directly, not through beforenm")
      check(crypto.open_session_v2(body:sub(1, 167), key) == "too_short", where .. " short body")
    elseif kind == "hchacha20" then
      check(crypto.tohex(crypto.hchacha20(unhex(f[2]), unhex(f[3]))) == f[4], where)
    elseif kind == "chacha20" then
      local want = unhex(f[5])
      check(crypto.chacha20_stream(unhex(f[2]), unhex(f[3]), #want, tonumber(f[4])) == want, where)
    elseif kind == "xaead" then
      local key, nonce, ad, msg, c = unhex(f[2]), unhex(f[3]), unhex(f[4]), unhex(f[5]), unhex(f[6])
      check(crypto.xchacha20poly1305_decrypt(c, ad, nonce, key) == msg, where .. " decrypt")
      check(crypto.xchacha20poly1305_decrypt(flip(c, #c), ad, nonce, key) == nil, where .. " tampered tag")
      check(crypto.xchacha20poly1305_decrypt(flip(c, 1), ad, nonce, key) == nil, where .. " tampered first byte")
      if #ad > 0 then
        check(crypto.xchacha20poly1305_decrypt(c, flip(ad, #ad), nonce, key) == nil, where .. " tampered ad")
      end
      check(crypto.xchacha20poly1305_decrypt(c, ad .. "\0", nonce, key) == nil, where .. " longer ad")
      check(crypto.xchacha20poly1305_decrypt(c, ad, flip(nonce, 1), key) == nil, where .. " wrong nonce (HChaCha20 part)")
      check(crypto.xchacha20poly1305_decrypt(c, ad, flip(nonce, 24), key) == nil, where .. " wrong nonce (ChaCha20 part)")
      check(crypto.xchacha20poly1305_decrypt(c, ad, nonce, flip(key, 32)) == nil, where .. " wrong key")
      check(crypto.xchacha20poly1305_decrypt(c:sub(1, 15), ad, nonce, key) == nil, where .. " short")
    elseif kind == "base64" then
      local text = f[2] == "-" and "" or f[2]
      local got = crypto.base64_decode(text)
      if f[3] == "fail" then
        check(got == nil, where .. " must fail: " .. text)
      else
        check(got == unhex(f[3]), where .. " " .. text)
      end
    elseif kind == "e2eseal" then
      local key, nonce, ad, plain, c = unhex(f[2]), unhex(f[3]), unhex(f[4]), unhex(f[5]), unhex(f[6])
      local status, got = crypto.open_e2e(c, ad, nonce, key)
      check(status == "ok" and got == plain, where .. " open")
      check((#c - 16) % 64 == 0 and #c - 16 > #plain, where .. " padded to 64-byte blocks")
      check(crypto.open_e2e(flip(c, 1), ad, nonce, key) == "auth_failed", where .. " tampered")
      check(crypto.open_e2e(c, flip(ad, 1), nonce, key) == "auth_failed", where .. " tampered header")
      check(crypto.open_e2e(c:sub(2), ad, nonce, key) == "bad_size", where .. " not whole blocks")
    else
      check(false, "unknown vector kind " .. where)
    end
  end
end

-- Known answer for the v2 server fingerprint, computed independently with Python's hashlib
-- (the vector of tests/unit/fingerprint_v2_test.cpp on the v2 wiring branch; the key is
-- docs/PROTOCOL.md §6 vector 1's X25519 public key).
check(crypto.server_fingerprint_v2(crypto.fromhex(
  "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e")) ==
  "2:ba14-58e6-afc6-2304-dcb1-4dcf-a5ff-be3c-1687-cef3", "server fingerprint v2 known answer")

-- An authentic body whose plaintext is not sodium_pad's: "bad_padding", not a MAC failure.
do
  local key, nonce = string.rep("k", 32), "\1" .. string.rep("\0", 22) .. "\7"
  check(crypto.open_session_v2(nonce .. crypto.box_seal_afternm(string.rep("x", 128), nonce, key), key)
    == "bad_padding", "bad padding: no 0x80 barrier")
  check(crypto.open_session_v2(nonce .. crypto.box_seal_afternm(string.rep("x", 129) .. "\128",
    nonce, key), key) == "bad_padding", "bad padding: not whole blocks")
  local status, plain = crypto.open_session_v2(nonce .. crypto.box_seal_afternm("{}\128" ..
    string.rep("\0", 125), nonce, key), key)
  check(status == "ok" and plain == "{}", "hand-padded body opens")
end

-- RFC 8439 §2.3.2 (the ChaCha20 block function) and draft-irtf-cfrg-xchacha-03 §2.2.1
-- (HChaCha20), known answers independent of libsodium.
do
  local key = crypto.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
  check(crypto.tohex(crypto.chacha20_stream(key, crypto.fromhex("000000090000004a00000000"), 64, 1)) ==
    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" ..
    "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e", "ChaCha20 RFC 8439 2.3.2")
  check(crypto.tohex(crypto.hchacha20(key, crypto.fromhex("000000090000004a0000000031415927"))) ==
    "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc", "HChaCha20 draft-xchacha 2.2.1")
end

-- The JSON reader that finds the e2e envelope.
do
  local v = crypto.json_decode(' [ {"type":"e2e","kind":"whisper","id":18446744073709551615,' ..
    '"to":"b\\u00e9\\ud83d\\ude42\\n","body":"AAAA","x":[true,null,-1.5e3,{}]} , {} ] ')
  check(v and v.array and v.n == 2, "json: an array of two")
  local o = v and v[1]
  check(o and o.members.type == "e2e" and o.members.kind == "whisper", "json: string members")
  check(o and o.members.id.number == "18446744073709551615", "json: a number kept as its literal")
  check(o and o.members.to == "b\195\169\240\159\153\130\n", "json: escapes and a surrogate pair")
  check(o and table.concat(o.keys, ",") == "type,kind,id,to,body,x", "json: member order")
  check(o and o.members.x.n == 4 and o.members.x[1].literal == "true" and o.members.x[3].number == "-1.5e3",
    "json: literals and numbers in an array")
  for _, bad in ipairs({ "", "{", '{"a":1,}', '{"a" 1}', '["a\n"]', '"\\x"', "[1] 2", "nul",
    string.rep("[", 40) .. string.rep("]", 40) }) do
    check(crypto.json_decode(bad) == nil, "json: refuses " .. bad:sub(1, 20))
  end
end

-- A vectors file that lost its content must not pass quietly.
for _, kind in ipairs({ "sha256", "fingerprint", "fingerprint2", "hsalsa20", "beforenm", "stream", "onetimeauth", "box",
  "unpad", "session2", "hchacha20", "chacha20", "xaead", "base64", "e2eseal" }) do
  check((counts[kind] or 0) > 0, "no " .. kind .. " vectors in " .. vectors_path)
end

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
