-- natter.lua — Wireshark dissector for natter, the encrypted chat, protocol 2
-- (docs/PROTOCOL.md, docs/PROTOCOL.md §2, docs/PROTOCOL.md §3).
--
-- Install: copy this ONE file into Wireshark's personal Lua plugins folder
-- (Help › About Wireshark › Folders › "Personal Lua Plugins"), or load it for one run with
-- `tshark -X lua_script:natter.lua`. See docs/WIRESHARK.md.
--
-- What it shows: the length prefix of every frame; the plaintext server hello (version, role,
-- the server's static key and its fingerprint); the client hello header and Noise message 1,
-- whose ephemeral key is the connection id; Noise messages 2 and 3 as what they are, encrypted
-- (the client's static key and identity travel in message 3 and are never shown, since no key
-- log holds the handshake keys); a NATE refusal, flagged as unauthenticated; a hello of
-- protocol 1 as unsupported; and session frames (direction, counter, MAC, padded size). With
-- the "Key log file" preference pointing at a file of NATTER_V2_SESSION lines written by
-- `--keylog`, session frames are opened, their MAC and padding checked, and the JSON handed to
-- Wireshark's JSON dissector. Counter gaps (a dropped frame) and replays are flagged.
--
-- Layer 2, end to end (docs/E2E.md): every JSON message of type "e2e" in a decrypted frame (or
-- batch) is shown as what the server sees (the routing envelope and the body's cleartext
-- header, per kind: handshake, whisper/key pairwise bodies, room messages) and what only the
-- recipients read: with the "End-to-end key log file" preference (NATTER_E2E_KEY lines, one
-- per message key) the body is opened (XChaCha20-Poly1305) and its text, or a sender key
-- distribution's fields, shown; a chain key is never shown.
--
-- Requires Wireshark 4.0 or newer (Lua 5.2 with bit32; a shim covers Lua 5.3/5.4 builds).
-- Loaded by a plain Lua interpreter (where `Proto` does not exist) the file returns its crypto
-- table instead of registering a dissector: that is how test_crypto.lua tests it.

-- ===========================================================================================
-- Crypto: SHA-256 (fingerprints), HSalsa20/Salsa20/XSalsa20 and Poly1305 (opening session
-- frames) and sodium_unpad, in pure Lua 5.2 on byte strings.
--
-- Why this exists: Wireshark's Lua API offers no XSalsa20-Poly1305, and a C plugin would have
-- to be compiled for every Wireshark version and OS. Pure Lua runs wherever Wireshark does.
-- This is the one place in natter where crypto is written by hand; it only ever *reads*
-- captures (it never protects anything), and test_crypto.lua beside it checks it byte for byte
-- against libsodium on random inputs (make_vectors.cpp).
--
-- Everything here works on Lua strings of raw bytes and uses bit32 for 32-bit words. Numbers
-- are doubles, so every intermediate value is kept below 2^53 (see poly1305 below).
-- ===========================================================================================
local crypto = {}
do
  -- Wireshark 4.0 embeds Lua 5.2, which has bit32. Newer Wireshark builds use Lua 5.3/5.4,
  -- which dropped bit32; there we build the few functions we need from the native integer
  -- operators. The shim is compiled from a string so this file still *parses* under Lua 5.2,
  -- where those operators do not exist. Like bit32's, bxor/band/bor take up to three operands
  -- here (SHA-256 needs three).
  local bit = bit32
  if bit == nil then
    bit = load([[
      local M = 0xffffffff
      return {
        band = function(a, b, c) return (a & b & (c or M)) & M end,
        bor = function(a, b, c) return (a | b | (c or 0)) & M end,
        bxor = function(a, b, c) return (a ~ b ~ (c or 0)) & M end,
        bnot = function(a) return (~a) & M end,
        rshift = function(a, n) return (a & M) >> n end,
        lshift = function(a, n) return (a << n) & M end,
        lrotate = function(a, n) a = a & M; return ((a << n) | (a >> (32 - n))) & M end,
        rrotate = function(a, n) a = a & M; return ((a >> n) | (a << (32 - n))) & M end,
      }]])()
  end
  crypto.bit = bit  -- for the dissector below, which must not assume bit32 either
  local band, bxor, bnot, rshift = bit.band, bit.bxor, bit.bnot, bit.rshift
  local lrotate, rrotate = bit.lrotate, bit.rrotate
  local byte, char, concat, floor = string.byte, string.char, table.concat, math.floor
  local TWO32 = 4294967296

  function crypto.tohex(s)
    return (s:gsub(".", function(c) return string.format("%02x", byte(c)) end))
  end

  -- Returns nil for anything that is not an even number of hex digits.
  function crypto.fromhex(h)
    if #h % 2 ~= 0 or h:find("[^%x]") then return nil end
    return (h:gsub("%x%x", function(x) return char(tonumber(x, 16)) end))
  end

  -- Little-endian 32-bit word at byte index i (1-based) of s.
  local function le32(s, i)
    local a, b, c, d = byte(s, i, i + 3)
    return a + b * 256 + c * 65536 + d * 16777216
  end

  local function le32_bytes(w)
    return char(w % 256, floor(w / 256) % 256, floor(w / 65536) % 256, floor(w / 16777216))
  end

  -- ----------------------------------------------------------------------------- SHA-256
  local K256 = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  }

  function crypto.sha256(msg)
    local h0, h1, h2, h3 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
    local h4, h5, h6, h7 = 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    -- Padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit big-endian number.
    local bits = #msg * 8
    local pad = (55 - #msg) % 64
    local lenbytes = {}
    for i = 7, 0, -1 do lenbytes[#lenbytes + 1] = char(floor(bits / 2 ^ (8 * i)) % 256) end
    msg = msg .. "\128" .. string.rep("\0", pad) .. concat(lenbytes)
    local w = {}
    for chunk = 1, #msg, 64 do
      for i = 0, 15 do
        local a, b, c, d = byte(msg, chunk + 4 * i, chunk + 4 * i + 3)
        w[i] = ((a * 256 + b) * 256 + c) * 256 + d
      end
      for i = 16, 63 do
        local x, y = w[i - 15], w[i - 2]
        local s0 = bxor(rrotate(x, 7), rrotate(x, 18), rshift(x, 3))
        local s1 = bxor(rrotate(y, 17), rrotate(y, 19), rshift(y, 10))
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) % TWO32
      end
      local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
      for i = 0, 63 do
        local S1 = bxor(rrotate(e, 6), rrotate(e, 11), rrotate(e, 25))
        local ch = bxor(band(e, f), band(bnot(e), g))
        local t1 = (h + S1 + ch + K256[i + 1] + w[i]) % TWO32
        local S0 = bxor(rrotate(a, 2), rrotate(a, 13), rrotate(a, 22))
        local maj = bxor(band(a, b), band(a, c), band(b, c))
        local t2 = (S0 + maj) % TWO32
        h, g, f, e, d, c, b, a = g, f, e, (d + t1) % TWO32, c, b, a, (t1 + t2) % TWO32
      end
      h0, h1, h2, h3 = (h0 + a) % TWO32, (h1 + b) % TWO32, (h2 + c) % TWO32, (h3 + d) % TWO32
      h4, h5, h6, h7 = (h4 + e) % TWO32, (h5 + f) % TWO32, (h6 + g) % TWO32, (h7 + h) % TWO32
    end
    local out = {}
    for _, v in ipairs({ h0, h1, h2, h3, h4, h5, h6, h7 }) do
      out[#out + 1] = char(floor(v / 16777216), floor(v / 65536) % 256, floor(v / 256) % 256, v % 256)
    end
    return concat(out)
  end

  -- Protocol 1 (a v1 hello): first 16 bytes of SHA-256(public key), 8 groups of 4 hex digits.
  function crypto.fingerprint(public_key)
    local hex = crypto.tohex(crypto.sha256(public_key):sub(1, 16))
    local groups = {}
    for i = 1, 32, 4 do groups[#groups + 1] = hex:sub(i, i + 3) end
    return concat(groups, "-")
  end

  -- A protocol 2 server's fingerprint (fingerprint_v2.hpp, server_fingerprint_v2): the first
  -- 20 bytes of SHA-256("natter server fingerprint v2" ‖ 0x00 ‖ X25519 key), shown as "2:" and
  -- 10 groups of 4 hex digits. The label keeps it apart from a user's fingerprint of the same bytes.
  function crypto.server_fingerprint_v2(public_key)
    local hex = crypto.tohex(crypto.sha256("natter server fingerprint v2\0" .. public_key):sub(1, 20))
    local groups = {}
    for i = 1, 40, 4 do groups[#groups + 1] = hex:sub(i, i + 3) end
    return "2:" .. concat(groups, "-")
  end

  -- -------------------------------------------------------------------------- Salsa20 family
  -- The 4x4 state is x[0..15]; constants "expand 32-byte k" on the diagonal (0, 5, 10, 15),
  -- key in 1..4 and 11..14, the 16-byte input (nonce/counter) in 6..9.
  local SIGMA = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }

  local function salsa_state(key, input16)
    local x = {}
    x[0], x[5], x[10], x[15] = SIGMA[1], SIGMA[2], SIGMA[3], SIGMA[4]
    for i = 0, 3 do
      x[1 + i] = le32(key, 1 + 4 * i)
      x[11 + i] = le32(key, 17 + 4 * i)
      x[6 + i] = le32(input16, 1 + 4 * i)
    end
    return x
  end

  -- 20 rounds (10 column+row double rounds) in place on x.
  local function salsa_rounds(x)
    local function qr(a, b, c, d)
      x[b] = bxor(x[b], lrotate((x[a] + x[d]) % TWO32, 7))
      x[c] = bxor(x[c], lrotate((x[b] + x[a]) % TWO32, 9))
      x[d] = bxor(x[d], lrotate((x[c] + x[b]) % TWO32, 13))
      x[a] = bxor(x[a], lrotate((x[d] + x[c]) % TWO32, 18))
    end
    for _ = 1, 10 do
      qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11)  -- columns
      qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14)  -- rows
    end
  end

  -- HSalsa20(key 32, input 16) -> 32 bytes: the rounds without the final addition, output
  -- words 0, 5, 10, 15, 6, 7, 8, 9. Used for the XSalsa20 subkey and by crypto_box_beforenm.
  function crypto.hsalsa20(key, input16)
    local x = salsa_state(key, input16)
    salsa_rounds(x)
    local out = {}
    for _, i in ipairs({ 0, 5, 10, 15, 6, 7, 8, 9 }) do out[#out + 1] = le32_bytes(x[i]) end
    return concat(out)
  end

  -- Salsa20 keystream of `len` bytes for an 8-byte nonce, block counter starting at 0.
  local function salsa20_stream(key, nonce8, len)
    local out, counter = {}, 0
    while #out * 64 < len do
      local input = nonce8 .. le32_bytes(counter % TWO32) .. le32_bytes(floor(counter / TWO32))
      local x = salsa_state(key, input)
      local y = {}
      for i = 0, 15 do y[i] = x[i] end
      salsa_rounds(x)
      local block = {}
      for i = 0, 15 do block[#block + 1] = le32_bytes((x[i] + y[i]) % TWO32) end
      out[#out + 1] = concat(block)
      counter = counter + 1
    end
    return concat(out):sub(1, len)
  end

  -- XSalsa20 keystream: Salsa20 under HSalsa20(key, nonce[1..16]) with nonce[17..24].
  function crypto.xsalsa20_stream(key, nonce24, len)
    return salsa20_stream(crypto.hsalsa20(key, nonce24:sub(1, 16)), nonce24:sub(17, 24), len)
  end

  local function xor_strings(a, b)  -- #b >= #a
    local out = {}
    for i = 1, #a do out[i] = char(bxor(byte(a, i), byte(b, i))) end
    return concat(out)
  end

  -- ------------------------------------------------------------------------------ Poly1305
  -- After tweetnacl: the 130-bit accumulator is 17 limbs of 8 bits. A product term is at most
  -- about 2^9 * 320 * 2^8 < 2^27, and 17 of them stay far below 2^53, so plain double
  -- arithmetic is exact. (Larger limbs would overflow a double's 53-bit mantissa.)
  local function add1305(h, c)
    local u = 0
    for j = 0, 16 do
      u = u + h[j] + c[j]
      h[j] = u % 256
      u = floor(u / 256)
    end
  end

  local MINUS_P = { [0] = 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 252 }

  function crypto.poly1305(msg, key32)
    local r, h, c, x = {}, {}, {}, {}
    for j = 0, 16 do r[j], h[j] = 0, 0 end
    for j = 0, 15 do r[j] = byte(key32, j + 1) end
    -- Clamp r (RFC 8439 §2.5.1).
    r[3], r[7], r[11], r[15] = r[3] % 16, r[7] % 16, r[11] % 16, r[15] % 16
    r[4], r[8], r[12] = band(r[4], 252), band(r[8], 252), band(r[12], 252)
    local pos, n = 1, #msg
    while pos <= n do
      for j = 0, 16 do c[j] = 0 end
      local take = math.min(16, n - pos + 1)
      for j = 0, take - 1 do c[j] = byte(msg, pos + j) end
      c[take] = 1  -- the 2^(8*len) bit that ends each block
      pos = pos + take
      add1305(h, c)
      -- h = h * r mod p, p = 2^130 - 5. A product landing in limb i + 17 weighs
      -- 2^136 * 2^(8i), and 2^136 = 2^130 * 64 = 5 * 64 = 320 (mod p): fold it into limb i.
      for i = 0, 16 do
        local s = 0
        for j = 0, 16 do
          if j <= i then s = s + h[j] * r[i - j] else s = s + h[j] * 320 * r[i + 17 - j] end
        end
        x[i] = s
      end
      for i = 0, 16 do h[i] = x[i] end
      local u = 0
      for j = 0, 15 do
        u = u + h[j]; h[j] = u % 256; u = floor(u / 256)
      end
      u = u + h[16]; h[16] = u % 4
      u = 5 * floor(u / 4)
      for j = 0, 15 do
        u = u + h[j]; h[j] = u % 256; u = floor(u / 256)
      end
      h[16] = u + h[16]
    end
    -- Final reduction: if h - p is non-negative use it, else keep h.
    local g = {}
    for j = 0, 16 do g[j] = h[j] end
    add1305(h, MINUS_P)
    if h[16] >= 128 then  -- negative: h < p
      for j = 0, 16 do h[j] = g[j] end
    end
    for j = 0, 15 do c[j] = byte(key32, 17 + j) end
    c[16] = 0
    add1305(h, c)
    local out = {}
    for j = 0, 15 do out[j + 1] = char(h[j]) end
    return concat(out)
  end

  -- Constant-time comparison is pointless in a passive dissector; a plain compare is fine.
  local function verify16(a, b) return a == b end

  -- --------------------------------------------------------------- crypto_box *_afternm
  -- crypto_box_easy_afternm(m, n, k): keystream = XSalsa20(k, n); bytes 1..32 are the
  -- one-time Poly1305 key, the rest encrypts m; output is MAC(16) || ciphertext.
  function crypto.box_seal_afternm(m, nonce24, key32)
    local ks = crypto.xsalsa20_stream(key32, nonce24, 32 + #m)
    local ct = xor_strings(m, ks:sub(33))
    return crypto.poly1305(ct, ks:sub(1, 32)) .. ct
  end

  -- Returns the plaintext, or nil if the box is too short or its MAC does not verify.
  function crypto.box_open_afternm(box, nonce24, key32)
    if #box < 16 or #nonce24 ~= 24 or #key32 ~= 32 then return nil end
    local mac, ct = box:sub(1, 16), box:sub(17)
    local ks = crypto.xsalsa20_stream(key32, nonce24, 32 + #ct)
    if not verify16(crypto.poly1305(ct, ks:sub(1, 32)), mac) then return nil end
    return xor_strings(ct, ks:sub(33))
  end

  -- crypto_box_beforenm(pk, sk) = HSalsa20(X25519(sk, pk), 16 zero bytes). X25519 itself is
  -- not needed by the dissector (session keys come from the key log); the tests use this to
  -- check HSalsa20 against libsodium's beforenm.
  function crypto.beforenm_from_shared(shared32)
    return crypto.hsalsa20(shared32, string.rep("\0", 16))
  end

  -- sodium_unpad (ISO/IEC 7816-4): within the last `block` bytes, skip trailing zeros; the
  -- byte before them must be 0x80, and what precedes it is the plaintext. Returns nil where
  -- libsodium returns -1 (shorter than one block, or no 0x80 barrier in the last block). Like
  -- libsodium it looks only at the last block; a whole number of blocks is the caller's check.
  function crypto.unpad(padded, block)
    local n = #padded
    if block <= 0 or n < block then return nil end
    for i = n, n - block + 1, -1 do
      local b = byte(padded, i)
      if b == 0x80 then return padded:sub(1, i - 1) end
      if b ~= 0 then return nil end
    end
    return nil
  end

  -- Protocol 2 session frame body (docs/PROTOCOL.md §3): nonce 24 | MAC 16 | ciphertext of the
  -- plaintext padded to 128-byte blocks. The directional key from the key log is used directly
  -- as crypto_box's precomputed key, and crypto_box_open_easy_afternm(c, n, k) is
  -- crypto_secretbox_open_easy(c, n, k): XSalsa20-Poly1305 under k itself (HSalsa20 of the
  -- nonce's first 16 bytes, as XSalsa20 always does; no second beforenm step).
  -- Returns "ok", plaintext | "too_short" | "bad_mac" | "bad_padding" (authentic, but not whole
  -- blocks or sodium_unpad refuses it: the receiver closes).
  crypto.V2_BLOCK = 128
  function crypto.open_session_v2(body, key32)
    if #body < 24 + 16 + crypto.V2_BLOCK then return "too_short" end
    local padded = crypto.box_open_afternm(body:sub(25), body:sub(1, 24), key32)
    if not padded then return "bad_mac" end
    local plain = #padded % crypto.V2_BLOCK == 0 and crypto.unpad(padded, crypto.V2_BLOCK) or nil
    if not plain then return "bad_padding" end
    return "ok", plain
  end

  -- ---------------------------------------------------------------- ChaCha20 (end-to-end layer)
  -- The end-to-end bodies (docs/E2E.md §4) are crypto_aead_xchacha20poly1305_ietf: HChaCha20
  -- derives a subkey from the key and the nonce's first 16 bytes, then ChaCha20 (IETF: 32-bit
  -- block counter, 12-byte nonce = 4 zero bytes ‖ the nonce's last 8) encrypts from block 1;
  -- block 0's first 32 bytes are the Poly1305 key (RFC 8439 §2.8 / draft-irtf-cfrg-xchacha).
  -- State: "expand 32-byte k" in words 0..3, key in 4..11, counter 12, nonce 13..15.
  local function chacha_state(key, counter, nonce12)
    local x = { [0] = SIGMA[1], SIGMA[2], SIGMA[3], SIGMA[4] }
    for i = 0, 7 do x[4 + i] = le32(key, 1 + 4 * i) end
    x[12] = counter
    for i = 0, 2 do x[13 + i] = le32(nonce12, 1 + 4 * i) end
    return x
  end

  local function chacha_rounds(x)
    local function qr(a, b, c, d)
      x[a] = (x[a] + x[b]) % TWO32; x[d] = lrotate(bxor(x[d], x[a]), 16)
      x[c] = (x[c] + x[d]) % TWO32; x[b] = lrotate(bxor(x[b], x[c]), 12)
      x[a] = (x[a] + x[b]) % TWO32; x[d] = lrotate(bxor(x[d], x[a]), 8)
      x[c] = (x[c] + x[d]) % TWO32; x[b] = lrotate(bxor(x[b], x[c]), 7)
    end
    for _ = 1, 10 do
      qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)  -- columns
      qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)  -- diagonals
    end
  end

  -- HChaCha20(key 32, input 16) -> 32 bytes: the input in words 12..15, the rounds without the
  -- final addition, output words 0..3 and 12..15 (crypto_core_hchacha20).
  function crypto.hchacha20(key, input16)
    local x = { [0] = SIGMA[1], SIGMA[2], SIGMA[3], SIGMA[4] }
    for i = 0, 7 do x[4 + i] = le32(key, 1 + 4 * i) end
    for i = 0, 3 do x[12 + i] = le32(input16, 1 + 4 * i) end
    chacha_rounds(x)
    local out = {}
    for _, i in ipairs({ 0, 1, 2, 3, 12, 13, 14, 15 }) do out[#out + 1] = le32_bytes(x[i]) end
    return concat(out)
  end

  -- ChaCha20 IETF keystream of `len` bytes (crypto_stream_chacha20_ietf_xor_ic), from block
  -- counter `ic` (the counter wraps at 2^32 as libsodium's does not need to: inputs are small).
  function crypto.chacha20_stream(key, nonce12, len, ic)
    local out, counter = {}, ic or 0
    while #out * 64 < len do
      local x = chacha_state(key, counter % TWO32, nonce12)
      local y = {}
      for i = 0, 15 do y[i] = x[i] end
      chacha_rounds(x)
      local block = {}
      for i = 0, 15 do block[#block + 1] = le32_bytes((x[i] + y[i]) % TWO32) end
      out[#out + 1] = concat(block)
      counter = counter + 1
    end
    return concat(out):sub(1, len)
  end

  local function le64_bytes(n)
    return le32_bytes(n % TWO32) .. le32_bytes(floor(n / TWO32))
  end
  local function pad16(n) return string.rep("\0", (16 - n % 16) % 16) end

  -- crypto_aead_xchacha20poly1305_ietf_decrypt: `c` is ciphertext ‖ tag (16). Returns the
  -- plaintext, or nil if the tag does not verify (or the sizes are wrong).
  function crypto.xchacha20poly1305_decrypt(c, ad, nonce24, key32)
    if #c < 16 or #nonce24 ~= 24 or #key32 ~= 32 then return nil end
    local subkey = crypto.hchacha20(key32, nonce24:sub(1, 16))
    local nonce12 = "\0\0\0\0" .. nonce24:sub(17, 24)
    local ct, tag = c:sub(1, #c - 16), c:sub(#c - 15)
    local otk = crypto.chacha20_stream(subkey, nonce12, 32, 0)
    local mac_data = ad .. pad16(#ad) .. ct .. pad16(#ct) .. le64_bytes(#ad) .. le64_bytes(#ct)
    if not verify16(crypto.poly1305(mac_data, otk), tag) then return nil end
    if #ct == 0 then return "" end
    return xor_strings(ct, crypto.chacha20_stream(subkey, nonce12, #ct, 1))
  end

  -- The end-to-end AEAD (e2e_aead.hpp): XChaCha20-Poly1305 with ad = the body's header, over
  -- sodium_pad(plaintext, 64). Returns "ok", plaintext | "bad_size" (not whole 64-byte blocks
  -- + tag) | "auth_failed" | "bad_padding" (authentic, but sodium_unpad refuses it).
  crypto.E2E_BLOCK = 64
  function crypto.open_e2e(ciphertext, ad, nonce24, key32)
    if #ciphertext < 16 + crypto.E2E_BLOCK or (#ciphertext - 16) % crypto.E2E_BLOCK ~= 0 then
      return "bad_size"
    end
    local padded = crypto.xchacha20poly1305_decrypt(ciphertext, ad, nonce24, key32)
    if not padded then return "auth_failed" end
    local plain = crypto.unpad(padded, crypto.E2E_BLOCK)
    if not plain then return "bad_padding" end
    return "ok", plain
  end

  -- Standard base64 (RFC 4648 §4, padded; sodium_base642bin with
  -- sodium_base64_VARIANT_ORIGINAL): nil for anything else (a length not a multiple of 4,
  -- characters outside the alphabet, misplaced '=', nonzero bits in the last symbol's padding).
  local B64 = {}
  do
    local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i = 1, 64 do B64[byte(alphabet, i)] = i - 1 end
  end
  function crypto.base64_decode(s)
    if #s % 4 ~= 0 then return nil end
    local out = {}
    for i = 1, #s, 4 do
      local a, b, c, d = byte(s, i, i + 3)
      local last = i + 3 == #s
      local va, vb = B64[a], B64[b]
      if va == nil or vb == nil then return nil end
      if c == 61 and d == 61 and last then  -- "xx=="
        if vb % 16 ~= 0 then return nil end
        out[#out + 1] = char(va * 4 + floor(vb / 16))
      elseif d == 61 and last then  -- "xxx="
        local vc = B64[c]
        if vc == nil or vc % 4 ~= 0 then return nil end
        out[#out + 1] = char(va * 4 + floor(vb / 16), (vb % 16) * 16 + floor(vc / 4))
      else
        local vc, vd = B64[c], B64[d]
        if vc == nil or vd == nil then return nil end
        out[#out + 1] = char(va * 4 + floor(vb / 16), (vb % 16) * 16 + floor(vc / 4), (vc % 4) * 64 + vd)
      end
    end
    return concat(out)
  end

  -- A small JSON reader for the end-to-end envelope (not crypto, but pure Lua like the rest and
  -- tested beside it): objects become tables with a `keys` list in document order, arrays
  -- tables with `n`, strings Lua strings (UTF-8, \u escapes and surrogate pairs decoded),
  -- numbers { number = "the literal" } (an id or a timestamp stays exact), true/false/null
  -- { literal = "true" }... Returns the value, or nil and a reason for anything malformed or
  -- nested deeper than 32 levels. Wireshark's own JSON dissector shows the tree; this is only
  -- so the dissector can find the e2e members.
  local function utf8_char(cp)
    if cp < 0x80 then return char(cp) end
    if cp < 0x800 then return char(0xC0 + floor(cp / 64), 0x80 + cp % 64) end
    if cp < 0x10000 then
      return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64, 0x80 + floor(cp / 64) % 64,
      0x80 + cp % 64)
  end
  local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

  function crypto.json_decode(s)
    local pos = 1
    local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
    local value
    local function str()
      pos = pos + 1  -- the opening quote
      local parts = {}
      while true do
        local q = s:find('["\\%c]', pos)
        if not q then error("unterminated string", 0) end
        parts[#parts + 1] = s:sub(pos, q - 1)
        local c = s:sub(q, q)
        if c == '"' then pos = q + 1; return concat(parts) end
        if c ~= "\\" then error("control character in a string", 0) end
        local e = s:sub(q + 1, q + 1)
        if ESCAPES[e] then
          parts[#parts + 1] = ESCAPES[e]
          pos = q + 2
        elseif e == "u" then
          local h = s:sub(q + 2, q + 5)
          if not h:match("^%x%x%x%x$") then error("bad \\u escape", 0) end
          local cp = tonumber(h, 16)
          pos = q + 6
          if cp >= 0xD800 and cp <= 0xDBFF and s:sub(pos, pos + 1) == "\\u" then
            local lo = tonumber(s:sub(pos + 2, pos + 5):match("^%x%x%x%x$") or "0", 16)
            if lo >= 0xDC00 and lo <= 0xDFFF then
              cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
              pos = pos + 6
            end
          end
          parts[#parts + 1] = utf8_char(cp)
        else
          error("bad escape", 0)
        end
      end
    end
    function value(depth)
      if depth > 32 then error("nested too deeply", 0) end
      ws()
      local c = s:sub(pos, pos)
      if c == "{" then
        local obj = { keys = {}, members = {} }
        pos = pos + 1
        ws()
        if s:sub(pos, pos) == "}" then pos = pos + 1; return obj end
        while true do
          ws()
          if s:sub(pos, pos) ~= '"' then error("member name expected", 0) end
          local k = str()
          ws()
          if s:sub(pos, pos) ~= ":" then error("':' expected", 0) end
          pos = pos + 1
          if obj.members[k] == nil then obj.keys[#obj.keys + 1] = k end
          obj.members[k] = value(depth + 1)
          ws()
          c = s:sub(pos, pos)
          pos = pos + 1
          if c == "}" then return obj end
          if c ~= "," then error("',' or '}' expected", 0) end
        end
      elseif c == "[" then
        local arr = { n = 0, array = true }
        pos = pos + 1
        ws()
        if s:sub(pos, pos) == "]" then pos = pos + 1; return arr end
        while true do
          arr.n = arr.n + 1
          arr[arr.n] = value(depth + 1)
          ws()
          c = s:sub(pos, pos)
          pos = pos + 1
          if c == "]" then return arr end
          if c ~= "," then error("',' or ']' expected", 0) end
        end
      elseif c == '"' then
        return str()
      else
        local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
        if num and num ~= "" and num ~= "-" then
          pos = pos + #num
          return { number = num }
        end
        for _, lit in ipairs({ "true", "false", "null" }) do
          if s:sub(pos, pos + #lit - 1) == lit then
            pos = pos + #lit
            return { literal = lit }
          end
        end
        error("unexpected character", 0)
      end
    end
    local ok, result = pcall(function()
      local v = value(1)
      ws()
      if pos <= #s then error("trailing characters", 0) end
      return v
    end)
    if not ok then return nil, result end
    return result
  end
end

if Proto == nil then
  return crypto  -- plain Lua (the tests): no Wireshark API, only the crypto.
end


-- ===========================================================================================
-- Dissector (protocol 2: docs/PROTOCOL.md, docs/PROTOCOL.md §2, docs/PROTOCOL.md §3)
-- ===========================================================================================
local natter = Proto("natter", "natter encrypted chat")

local HEADER_LEN = 4         -- u32 BE body length
local HELLO_LEN = 40         -- server hello (and a protocol 1 hello): magic 4, version, role, 2, key 32
local HELLO_HEADER_LEN = 8   -- the client hello header in front of Noise message 1
local KEY_LEN = 32           -- X25519 public key
local TAG_LEN = 16           -- ChaChaPoly tag of a Noise encrypted field
local MSG1_MIN = KEY_LEN + TAG_LEN                   -- -> e, es: e, then the (empty) payload's tag
local MSG2_MIN = KEY_LEN + TAG_LEN + 6               -- <- e, ee: e, server parameters (6) + tag
local MSG3_STATIC = KEY_LEN + TAG_LEN                -- -> s, se: the encrypted static key
local MSG3_MIN = MSG3_STATIC + 33 + TAG_LEN          -- + client identity (33) + tag
local NONCE_LEN = 24
local MAC_LEN = 16
local BLOCK = crypto.V2_BLOCK
local SESSION_MIN = NONCE_LEN + MAC_LEN + BLOCK      -- 168: an empty plaintext padded
local REFUSAL_MAX_REASON = 512
local INFO_JSON_MAX = 60  -- bytes of plaintext shown in the Info column
local VERSION = 2

local role_names = { [1] = "client", [2] = "server" }
local direction_bytes = { [1] = "client → server", [2] = "server → client" }
local arrows = { c2s = "C→S", s2c = "S→C" }

local f = {
  length = ProtoField.uint32("natter.length", "Length", base.DEC, nil, nil,
    "Body length in bytes (the 4-byte prefix is not counted)"),
  kind = ProtoField.string("natter.kind", "Frame kind"),
  direction = ProtoField.string("natter.direction", "Direction"),
  index = ProtoField.uint32("natter.index", "Frame number in this direction"),
  magic = ProtoField.string("natter.magic", "Magic"),
  version = ProtoField.uint8("natter.version", "Version"),
  role = ProtoField.uint8("natter.hello.role", "Role", base.DEC, role_names),
  reserved = ProtoField.uint16("natter.hello.reserved", "Reserved", base.HEX),
  public_key = ProtoField.bytes("natter.hello.public_key", "Static public key (X25519)"),
  fingerprint = ProtoField.string("natter.hello.fingerprint", "Fingerprint", base.ASCII,
    "The key's fingerprint as natter prints it: protocol 2 server fingerprint (2:…), or a " ..
    "protocol 1 fingerprint for a protocol 1 hello"),
  reason = ProtoField.string("natter.refusal.reason", "Reason (unauthenticated)", base.UNICODE),
  ephemeral = ProtoField.bytes("natter.noise.ephemeral", "Ephemeral public key (X25519)"),
  encrypted_static = ProtoField.bytes("natter.noise.encrypted_static",
    "Encrypted static key (X25519 key 32 + tag 16)"),
  encrypted_payload = ProtoField.bytes("natter.noise.encrypted_payload",
    "Encrypted payload (payload + tag 16)"),
  payload_length = ProtoField.uint32("natter.noise.payload_length", "Payload length",
    base.DEC, nil, nil, "Size of the payload inside the encrypted field (its size minus the tag)"),
  contents = ProtoField.string("natter.noise.contents", "Contents"),
  connection_id = ProtoField.bytes("natter.connection_id", "Connection id",
    base.NONE, "The client's ephemeral public key (Noise message 1); names the connection in key logs"),
  nonce = ProtoField.bytes("natter.session.nonce", "Nonce"),
  nonce_direction = ProtoField.uint8("natter.session.direction", "Direction byte", base.HEX,
    direction_bytes),
  padding = ProtoField.bytes("natter.session.padding", "Padding (must be zero)"),
  counter = ProtoField.uint64("natter.session.counter", "Counter"),
  expected = ProtoField.uint64("natter.session.expected", "Expected counter",
    base.DEC, nil, nil, "Previous counter in this direction + 1"),
  mac = ProtoField.bytes("natter.session.mac", "MAC (Poly1305)"),
  ciphertext = ProtoField.bytes("natter.session.ciphertext", "Ciphertext (XSalsa20, padded plaintext)"),
  ciphertext_length = ProtoField.uint32("natter.session.ciphertext_length", "Ciphertext length"),
  size_bucket = ProtoField.string("natter.session.size_bucket", "Plaintext size (from the frame size)"),
  mac_ok = ProtoField.bool("natter.session.mac_ok", "MAC verified"),
  plaintext_length = ProtoField.uint32("natter.session.plaintext_length", "Plaintext length (unpadded)"),
  plaintext = ProtoField.string("natter.session.plaintext", "Plaintext", base.UNICODE),
  message_type = ProtoField.string("natter.message.type", "Message type"),
  -- The end-to-end layer (docs/E2E.md) inside the session frames' JSON.
  e2e = ProtoField.string("natter.e2e", "End-to-end message"),
  e2e_server_sees = ProtoField.string("natter.e2e.server_sees", "Server sees"),
  e2e_type = ProtoField.string("natter.e2e.type", "Type"),
  e2e_kind = ProtoField.string("natter.e2e.kind", "Kind"),
  e2e_from = ProtoField.string("natter.e2e.from", "From", base.UNICODE),
  e2e_to = ProtoField.string("natter.e2e.to", "To", base.UNICODE),
  e2e_id = ProtoField.uint64("natter.e2e.id", "Id (server's message id)"),
  e2e_ts = ProtoField.uint64("natter.e2e.ts", "Timestamp (ms)"),
  e2e_ref = ProtoField.uint64("natter.e2e.ref", "Ref (client's request number)"),
  e2e_body_b64_length = ProtoField.uint32("natter.e2e.body_base64_length", "Body length (base64 characters)"),
  e2e_body_size = ProtoField.uint32("natter.e2e.body_size", "Body size (bytes)"),
  e2e_body = ProtoField.bytes("natter.e2e.body", "Body (base64-decoded)"),
  e2e_header = ProtoField.string("natter.e2e.header", "Body header"),
  e2e_version = ProtoField.uint8("natter.e2e.version", "Version"),
  e2e_handshake_kind = ProtoField.uint8("natter.e2e.handshake_kind", "Handshake message", base.DEC,
    { [1] = "init (Noise KK message 1)", [2] = "response (Noise KK message 2)" }),
  e2e_ephemeral = ProtoField.bytes("natter.e2e.ephemeral", "Ephemeral public key (X25519)"),
  e2e_payload = ProtoField.bytes("natter.e2e.encrypted_payload", "Encrypted payload (empty payload + tag 16)"),
  e2e_session_id = ProtoField.bytes("natter.e2e.session_id", "Session id"),
  e2e_room = ProtoField.string("natter.e2e.room", "Room", base.UNICODE),
  e2e_epoch = ProtoField.uint32("natter.e2e.epoch", "Epoch"),
  e2e_sender_key_id = ProtoField.bytes("natter.e2e.sender_key_id", "Sender key id"),
  e2e_n = ProtoField.uint32("natter.e2e.n", "Message number n (chain index)"),
  e2e_nonce = ProtoField.bytes("natter.e2e.nonce", "Nonce (XChaCha20, random)"),
  e2e_ciphertext = ProtoField.bytes("natter.e2e.ciphertext", "Ciphertext (padded plaintext + tag 16)"),
  e2e_ciphertext_length = ProtoField.uint32("natter.e2e.ciphertext_length", "Ciphertext length"),
  e2e_size_bucket = ProtoField.string("natter.e2e.size_bucket", "Plaintext size (from the body size)"),
  e2e_signature = ProtoField.bytes("natter.e2e.signature", "Signature (Ed25519, sender key)"),
  e2e_signature_status = ProtoField.string("natter.e2e.signature_status", "Signature check"),
  e2e_contents = ProtoField.string("natter.e2e.contents", "Contents"),
  e2e_recipients = ProtoField.string("natter.e2e.recipients", "Only the recipients"),
  e2e_aead_ok = ProtoField.bool("natter.e2e.aead_ok", "AEAD verified (XChaCha20-Poly1305)"),
  e2e_plaintext_length = ProtoField.uint32("natter.e2e.plaintext_length", "Plaintext length (unpadded)"),
  e2e_text = ProtoField.string("natter.e2e.text", "Text", base.UNICODE),
  e2e_direction = ProtoField.string("natter.e2e.direction", "Direction (sender->recipient, from the key log line)",
    base.UNICODE),
  e2e_dist_room = ProtoField.string("natter.e2e.distribution.room", "Room", base.UNICODE),
  e2e_dist_epoch = ProtoField.uint32("natter.e2e.distribution.epoch", "Epoch"),
  e2e_dist_chain_key = ProtoField.string("natter.e2e.distribution.chain_key", "Chain key"),
  e2e_dist_iteration = ProtoField.uint32("natter.e2e.distribution.iteration", "Iteration (chain index it starts at)"),
  e2e_dist_signing_key = ProtoField.string("natter.e2e.distribution.signing_key",
    "Signing key (Ed25519 public key of the sender key)"),
  e2e_dist_sender_key_id = ProtoField.string("natter.e2e.distribution.sender_key_id",
    "Sender key id (of the signing key)"),
  data = ProtoField.bytes("natter.data", "Data"),
}
natter.fields = {
  f.length, f.kind, f.direction, f.index, f.magic, f.version, f.role, f.reserved,
  f.public_key, f.fingerprint, f.reason, f.ephemeral, f.encrypted_static, f.encrypted_payload,
  f.payload_length, f.contents, f.connection_id, f.nonce, f.nonce_direction, f.padding,
  f.counter, f.expected, f.mac, f.ciphertext, f.ciphertext_length, f.size_bucket, f.mac_ok,
  f.plaintext_length, f.plaintext, f.message_type, f.data,
  f.e2e, f.e2e_server_sees, f.e2e_type, f.e2e_kind, f.e2e_from, f.e2e_to, f.e2e_id, f.e2e_ts, f.e2e_ref,
  f.e2e_body_b64_length, f.e2e_body_size, f.e2e_body, f.e2e_header, f.e2e_version, f.e2e_handshake_kind,
  f.e2e_ephemeral, f.e2e_payload, f.e2e_session_id, f.e2e_room, f.e2e_epoch, f.e2e_sender_key_id, f.e2e_n,
  f.e2e_nonce, f.e2e_ciphertext, f.e2e_ciphertext_length, f.e2e_size_bucket, f.e2e_signature,
  f.e2e_signature_status, f.e2e_contents, f.e2e_recipients, f.e2e_aead_ok, f.e2e_plaintext_length, f.e2e_text,
  f.e2e_direction,
  f.e2e_dist_room, f.e2e_dist_epoch, f.e2e_dist_chain_key, f.e2e_dist_iteration, f.e2e_dist_signing_key,
  f.e2e_dist_sender_key_id,
}

local MALFORMED, ERROR, WARN, NOTE = expert.group.MALFORMED, expert.severity.ERROR,
    expert.severity.WARN, expert.severity.NOTE
local DECRYPTION = expert.group.DECRYPTION or expert.group.SECURITY
local e = {
  bad_length = ProtoExpert.new("natter.bad_length", "Frame length out of range", MALFORMED, ERROR),
  truncated = ProtoExpert.new("natter.truncated", "Frame truncated", MALFORMED, ERROR),
  bad_size = ProtoExpert.new("natter.bad_size", "Wrong frame size", MALFORMED, ERROR),
  unexpected = ProtoExpert.new("natter.unexpected", "Unexpected frame", expert.group.PROTOCOL, ERROR),
  bad_field = ProtoExpert.new("natter.bad_field", "Invalid field value", expert.group.PROTOCOL, ERROR),
  unsupported = ProtoExpert.new("natter.unsupported", "Protocol version not supported",
    expert.group.PROTOCOL, WARN),
  bad_nonce = ProtoExpert.new("natter.bad_nonce", "Malformed session nonce", expert.group.PROTOCOL, ERROR),
  replay = ProtoExpert.new("natter.replay", "Counter not increasing", expert.group.SEQUENCE, ERROR),
  gap = ProtoExpert.new("natter.gap", "Frame missing (counter skips ahead)", expert.group.SEQUENCE, ERROR),
  mac_failed = ProtoExpert.new("natter.mac_failed", "MAC check failed", DECRYPTION, ERROR),
  bad_padding = ProtoExpert.new("natter.bad_padding", "Bad padding in an authentic frame", DECRYPTION, ERROR),
  no_key = ProtoExpert.new("natter.no_key", "No session key for this connection", DECRYPTION, NOTE),
  keylog_missing = ProtoExpert.new("natter.keylog_missing", "Key log file not found", DECRYPTION, WARN),
  refusal = ProtoExpert.new("natter.refused", "Server refused the client (unauthenticated)",
    expert.group.RESPONSE_CODE, WARN),
  after_error = ProtoExpert.new("natter.after_error", "Bytes after a fatal framing error", MALFORMED, WARN),
  internal = ProtoExpert.new("natter.internal", "natter dissector error", expert.group.UNDECODED, ERROR),
}
natter.experts = {
  e.bad_length, e.truncated, e.bad_size, e.unexpected, e.bad_field, e.unsupported, e.bad_nonce,
  e.replay, e.gap, e.mac_failed, e.bad_padding, e.no_key, e.keylog_missing, e.refusal,
  e.after_error, e.internal,
}
-- The end-to-end layer's own (natter.e2e.*), so a filter tells the two layers apart.
e.e2e_no_key = ProtoExpert.new("natter.e2e.no_key", "End-to-end body not readable (no key line)", DECRYPTION, NOTE)
e.e2e_keylog_missing = ProtoExpert.new("natter.e2e.keylog_missing", "End-to-end key log file not found",
  DECRYPTION, WARN)
e.e2e_auth_failed = ProtoExpert.new("natter.e2e.auth_failed", "End-to-end AEAD check failed", DECRYPTION, ERROR)
e.e2e_bad_padding = ProtoExpert.new("natter.e2e.bad_padding", "Bad padding in an authentic end-to-end body",
  DECRYPTION, ERROR)
e.e2e_bad_format = ProtoExpert.new("natter.e2e.bad_format", "Malformed end-to-end message", MALFORMED, ERROR)
e.e2e_sender_mismatch = ProtoExpert.new("natter.e2e.sender_mismatch",
  "The envelope's sender is not the one the end-to-end key log names", expert.group.SECURITY, WARN)
for _, x in ipairs({ e.e2e_no_key, e.e2e_keylog_missing, e.e2e_auth_failed, e.e2e_bad_padding, e.e2e_bad_format,
  e.e2e_sender_mismatch }) do
  natter.experts[#natter.experts + 1] = x
end

natter.prefs.port = Pref.uint("TCP port", 9900,
  "TCP port dissected as natter (other ports are found by the heuristic dissector)")
natter.prefs.max_frame = Pref.uint("Maximum frame size", 65536,
  "Largest frame body accepted; longer length prefixes are flagged as fatal (server --max-frame)")
natter.prefs.e2e_keylog_file = Pref.string("End-to-end key log file", "",
  "File of NATTER_E2E_KEY lines written by natter --e2e-keylog (one per message key: pairwise|room, " ..
  "session or sender key id, n, for pairwise the direction sender->recipient, message key): " ..
  "end-to-end bodies inside decrypted session frames are opened. Needs the key log file as well, " ..
  "since the bodies travel inside session frames")
natter.prefs.keylog_file = Pref.string("Key log file", "",
  "File of NATTER_V2_SESSION lines written by natter --keylog / NATTER_KEYLOGFILE; " ..
  "session frames of the logged connections are decrypted")

-- ------------------------------------------------------------------------------------ state
-- Wireshark dissects every packet once in order (pinfo.visited false), then again, in any
-- order, whenever a packet is shown or filtered. So the order-dependent decisions (which frame
-- of a direction this is, which handshake message, the connection id, the previous counter,
-- where framing was lost) are made on the first dissection and stored per frame; later
-- dissections only read them back.
local convs       -- conversation key -> { server = endpoint, dirs = {c2s, s2c}, conn_id }
local records     -- frame key -> what the frame is (see classify)
local lengths     -- get_len call key -> PDU length decided on the first pass
local dead        -- conversation key ">" source endpoint -> true once framing is lost
local pending     -- conversation key ">" source endpoint -> frame started but not completed
local opened      -- frame key -> { key = session key, status = ..., plain = string or nil }
local keylog
local e2e_keylog  -- { path, size, keys = { [name] = { { key, sender }... } }, missing } (read_e2e_keylog)
local e2e_opened  -- frame key "#" element -> { keys, status, plain, sender }

local function reset_e2e_keylog()
  e2e_keylog = { path = nil, size = nil, keys = {}, missing = false }
end

local function reset_keylog()
  keylog = { path = nil, size = nil, keys = {}, missing = false }
end

local function reset_state()
  convs, records, lengths, dead, pending, opened, e2e_opened = {}, {}, {}, {}, {}, {}, {}
  reset_keylog()
  reset_e2e_keylog()
end
reset_state()

-- Called when a capture is opened or re-dissected from scratch.
function natter.init()
  reset_state()
end

-- -------------------------------------------------------------------------------- key log
-- NATTER_V2_SESSION <connection id 64 hex> <k_c2s 64 hex> <k_s2c 64 hex>; other lines (v1's
-- NATTER_SESSION_KEY, comments) are ignored.
local function read_keylog(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local content = fh:read("*a") or ""
  fh:close()
  local keys = {}
  for line in content:gmatch("[^\r\n]+") do
    local id, c2s, s2c = line:match("^%s*NATTER_V2_SESSION%s+(%x+)%s+(%x+)%s+(%x+)%s*$")
    if id and #id == 2 * KEY_LEN and #c2s == 64 and #s2c == 64 then
      keys[id:lower()] = { c2s = crypto.fromhex(c2s), s2c = crypto.fromhex(s2c) }
    end
  end
  return keys, #content
end

local function file_size(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local size = fh:seek("end")
  fh:close()
  return size
end

-- Returns the connection's keys { c2s, s2c } or nil. natter appends one line per connection,
-- so on a miss the file is re-read if its size changed: a capture opened while the chat is
-- still running picks up new connections without touching the preference. keylog.missing
-- tells a path that cannot be opened from a connection that is not in the file.
local function session_keys_for(conn_id_hex)
  local path = natter.prefs.keylog_file
  if path == nil or path == "" then return nil end
  if keylog.path ~= path then
    reset_keylog()
    keylog.path = path
  end
  local keys = conn_id_hex and keylog.keys[conn_id_hex]
  if keys then return keys end
  local size = file_size(path)
  if size == nil then
    keylog.missing, keylog.size, keylog.keys = true, nil, {}
    return nil
  end
  keylog.missing = false
  if size ~= keylog.size then
    local read, read_size = read_keylog(path)
    keylog.keys, keylog.size = read or {}, read_size
  end
  return conn_id_hex and keylog.keys[conn_id_hex] or nil
end

-- -------------------------------------------------------------------------- conversations
local f_tcp_stream = Field.new("tcp.stream")

local function endpoint(addr, port) return tostring(addr) .. "/" .. tostring(port) end
local function source(pinfo) return endpoint(pinfo.src, pinfo.src_port) end

-- tcp.stream tells reused port pairs apart; the sorted address pair is a fallback.
local function conversation_key(pinfo)
  local streams = { f_tcp_stream() }
  local last = streams[#streams]
  if last then return "tcp" .. tostring(last.value) end
  local a, b = source(pinfo), endpoint(pinfo.dst, pinfo.dst_port)
  if a > b then a, b = b, a end
  return a .. "|" .. b
end

local function new_direction()
  return { phase = "hello", count = 0, last_counter = 0 }
end

local function get_conv(key)
  local conv = convs[key]
  if not conv then
    conv = { dirs = { c2s = new_direction(), s2c = new_direction() } }
    convs[key] = conv
  end
  return conv
end

local ZERO15 = string.rep("\0", 15)

local function looks_like_session(body)
  if body:len() < NONCE_LEN + MAC_LEN then return false end
  local d = body:range(0, 1):uint()
  if d ~= 1 and d ~= 2 then return false end
  return body:range(1, 15):raw() == ZERO15
end

-- Which side is the server is learnt from the first frame seen: a hello names its role, the
-- server is the one that refuses, a session nonce names its direction. Without any of those
-- (capture started mid-handshake) the configured port decides, else the sender of the first
-- frame, since the natter server speaks first.
local function learn_server(conv, pinfo, body)
  if conv.server then return end
  local src, dst = source(pinfo), endpoint(pinfo.dst, pinfo.dst_port)
  local magic = body and body:len() >= 6 and body:range(0, 4):string() or ""
  if magic == "NATR" then
    conv.server = body:range(5, 1):uint() == 1 and dst or src
  elseif magic == "NATE" then
    conv.server = src
  elseif body and looks_like_session(body) then
    conv.server = body:range(0, 1):uint() == 1 and dst or src
  elseif pinfo.dst_port == natter.prefs.port then
    conv.server = dst
  else
    conv.server = src
  end
end

-- --------------------------------------------------------------------------- classification
-- Decides once, in capture order, what a complete PDU (4-byte prefix + body) is. Server:
-- hello, then Noise message 2 (or a refusal in its place), then session frames. Client: hello
-- header + Noise message 1, then message 3, then session frames. A protocol 1 hello is named
-- and what follows it on that side is not parsed. The two directions are counted apart.
local function classify_handshake(rec, d, dir, conv, body, magic)
  local version = body:len() >= 5 and body:range(4, 1):uint() or nil
  if d.phase == "hello" then
    if magic == "NATR" and version ~= nil and version ~= VERSION then
      rec.kind, d.phase = "hello_other", "other_version"
    elseif magic == "NATR" and dir == "s2c" then
      rec.kind, d.phase = "server_hello", "msg2"
    elseif magic == "NATR" then
      rec.kind, d.phase = "client_hello", "msg3"
      if body:len() >= HELLO_HEADER_LEN + KEY_LEN then
        conv.conn_id = crypto.tohex(body:range(HELLO_HEADER_LEN, KEY_LEN):raw())
      end
    elseif magic == "NATE" and dir == "s2c" then
      rec.kind, d.phase = "refusal", "closed"
    elseif looks_like_session(body) then
      rec.kind, d.phase, rec.midstream = "session", "session", true
    else
      rec.kind, d.phase = "unexpected", dir == "s2c" and "msg2" or "msg3"
      rec.expected = "a hello"
    end
  elseif d.phase == "msg2" then
    if magic == "NATE" then
      rec.kind, d.phase = "refusal", "closed"
    else
      rec.kind, d.phase = "msg2", "session"
    end
  elseif d.phase == "msg3" then
    rec.kind, d.phase = "msg3", "session"
  elseif d.phase == "other_version" then
    rec.kind = "other_version"
  elseif d.phase == "session" then
    rec.kind = "session"
  else
    rec.kind, rec.expected = "unexpected", "nothing after a refusal"
  end
end

-- Strict counters (docs/PROTOCOL.md §3): each direction counts from 1 and only last + 1 is due. What
-- the capture shows is recorded here, once; whether the counter is authentic is known only
-- with the key (the MAC covers the nonce).
local function classify_counter(rec, d, body)
  if body:len() < NONCE_LEN + MAC_LEN then return end
  local counter = body:range(16, 4):uint() * 4294967296 + body:range(20, 4):uint()
  rec.counter, rec.previous_counter = counter, d.last_counter
  if rec.midstream and d.last_counter == 0 then
    rec.counter_status = "midstream"  -- earlier frames were not captured: nothing to judge
    d.last_counter = counter
  elseif counter == d.last_counter + 1 then
    rec.counter_status = "ok"
    d.last_counter = counter
  elseif counter > d.last_counter then
    rec.counter_status = "gap"
    d.last_counter = counter
  else
    rec.counter_status = "replay"
  end
  rec.midstream = rec.midstream and d.last_counter == counter
end

local function classify(tvb, pinfo, ckey)
  local conv = get_conv(ckey)
  local flow = ckey .. ">" .. source(pinfo)
  local declared = tvb:range(0, HEADER_LEN):uint()
  local complete = declared >= 1 and tvb:len() == HEADER_LEN + declared
  local body = complete and tvb:range(HEADER_LEN) or nil
  learn_server(conv, pinfo, body)
  local dir = source(pinfo) == conv.server and "s2c" or "c2s"
  local d = conv.dirs[dir]
  local rec = { dir = dir, declared = declared }
  pending[flow] = nil  -- an earlier incomplete frame of this flow has been completed
  if d.dead then
    rec.kind = "after_error"
    return rec
  end
  d.count = d.count + 1
  rec.index = d.count
  if declared == 0 then
    rec.kind = "empty"  -- fatal for a receiver, but the framing itself is intact
    return rec
  end
  if declared > natter.prefs.max_frame or not complete then
    rec.kind = "too_long"
    d.dead = true
    return rec
  end
  local magic = body:len() >= 4 and body:range(0, 4):string() or ""
  classify_handshake(rec, d, dir, conv, body, magic)
  if rec.kind == "session" or rec.kind == "msg2" or rec.kind == "msg3" then
    rec.conn_id = conv.conn_id
  end
  if rec.kind == "session" then classify_counter(rec, d, body) end
  return rec
end

-- ------------------------------------------------------------------------------ rendering
-- Cuts s to at most n bytes without splitting a UTF-8 sequence.
local function utf8_prefix(s, n)
  if #s <= n then return s end
  local cut = n
  while cut > 0 and crypto.bit.band(s:byte(cut + 1), 0xC0) == 0x80 do cut = cut - 1 end
  return s:sub(1, cut) .. "…"
end

local function safe_tostring(column)
  local ok, text = pcall(tostring, column)
  return ok and text or ""
end

local function set_info(pinfo, first, text)
  pinfo.cols.protocol = "natter"
  if first then
    pinfo.cols.info = text
  else
    pinfo.cols.info:append(" | " .. text)
  end
end

local function add_generated(tree, field, value)
  local item = tree:add(field, value)
  item:set_generated()
  return item
end

-- Magic, version, role and reserved bytes: the 8 bytes every hello starts with.
local function dissect_hello_header(body, root, expected_role)
  root:add(f.magic, body:range(0, 4))
  local version = body:range(4, 1):uint()
  local version_item = root:add(f.version, body:range(4, 1))
  if version ~= VERSION then
    version_item:add_proto_expert_info(e.unsupported, string.format(
      "Protocol %d (unsupported): natter speaks protocol 2, and a v2 server refuses it", version))
  end
  local role = body:range(5, 1):uint()
  local role_item = root:add(f.role, body:range(5, 1))
  if role ~= 1 and role ~= 2 then
    role_item:add_proto_expert_info(e.bad_field, "Role must be 1 (client) or 2 (server)")
  elseif role ~= expected_role then
    role_item:add_proto_expert_info(e.bad_field, "Role does not match the side that sent it")
  end
  root:add(f.reserved, body:range(6, 2))
  return version, role
end

local function dissect_server_hello(body, root, rec)
  if body:len() < HELLO_HEADER_LEN then
    root:add(f.magic, body:range(0, 4))
    root:add_proto_expert_info(e.bad_size, "Hello shorter than its 8-byte header")
    return "Server hello (too short)"
  end
  dissect_hello_header(body, root, rec.dir == "s2c" and 2 or 1)
  if body:len() ~= HELLO_LEN then
    root:add_proto_expert_info(e.bad_size,
      string.format("Server hello must be %d bytes, not %d", HELLO_LEN, body:len()))
    if body:len() > HELLO_HEADER_LEN then root:add(f.data, body:range(HELLO_HEADER_LEN)) end
    return "Server hello (wrong size)"
  end
  root:add(f.public_key, body:range(8, KEY_LEN))
  local fp = crypto.server_fingerprint_v2(body:range(8, KEY_LEN):raw())
  add_generated(root, f.fingerprint, fp)
  return "Server hello, server key " .. fp
end

-- A hello of another protocol version (protocol 1: 40 bytes, the same layout from either side).
local function dissect_other_hello(body, root, rec)
  local version, role = dissect_hello_header(body, root, rec.dir == "s2c" and 2 or 1)
  if body:len() == HELLO_LEN then
    root:add(f.public_key, body:range(8, KEY_LEN))
    add_generated(root, f.fingerprint, crypto.fingerprint(body:range(8, KEY_LEN):raw()))
  elseif body:len() > HELLO_HEADER_LEN then
    root:add(f.data, body:range(HELLO_HEADER_LEN))
  end
  return string.format("Hello (%s), protocol %d (unsupported)", role_names[role] or "role " .. role,
    version)
end

local function dissect_client_hello(body, root, rec)
  if body:len() < HELLO_HEADER_LEN then
    root:add(f.magic, body:range(0, 4))
    root:add_proto_expert_info(e.bad_size, "Client hello shorter than its 8-byte header")
    return "Client hello (too short)"
  end
  dissect_hello_header(body, root, 1)
  local msg_len = body:len() - HELLO_HEADER_LEN
  if msg_len < MSG1_MIN then
    root:add_proto_expert_info(e.bad_size, string.format(
      "Noise message 1 must be at least %d bytes (e 32 + tag 16), not %d", MSG1_MIN, msg_len))
    if msg_len > 0 then root:add(f.data, body:range(HELLO_HEADER_LEN)) end
    return "Client hello + Noise message 1 (too short)"
  end
  local msg = root
  msg:add(f.ephemeral, body:range(HELLO_HEADER_LEN, KEY_LEN))
  msg:add(f.connection_id, body:range(HELLO_HEADER_LEN, KEY_LEN)):set_generated()
  msg:add(f.encrypted_payload, body:range(HELLO_HEADER_LEN + KEY_LEN))
  add_generated(msg, f.payload_length, msg_len - MSG1_MIN)
  return string.format("Client hello + Noise message 1 (-> e, es) %d bytes, conn %s…", msg_len,
    crypto.tohex(body:range(HELLO_HEADER_LEN, 8):raw()))
end

-- The connection id (generated), on a frame after message 1. A bytes field takes its length
-- from the range, so the 32-byte id is attached to the frame's first 32 bytes.
local function add_connection_id(root, body, rec)
  if rec.conn_id and body:len() >= KEY_LEN then
    root:add(f.connection_id, body:range(0, KEY_LEN), crypto.fromhex(rec.conn_id)):set_generated()
  end
end

local function dissect_msg2(body, root, rec)
  local len = body:len()
  if len < MSG2_MIN then
    root:add_proto_expert_info(e.bad_size, string.format(
      "Noise message 2 must be at least %d bytes (e 32 + server parameters 6 + tag 16), not %d",
      MSG2_MIN, len))
    root:add(f.data, body)
    return "Noise message 2 (too short)"
  end
  root:add(f.ephemeral, body:range(0, KEY_LEN))
  add_connection_id(root, body, rec)
  root:add(f.encrypted_payload, body:range(KEY_LEN))
  add_generated(root, f.payload_length, len - KEY_LEN - TAG_LEN)
  add_generated(root, f.contents, "server parameters (max_frame, max_text), encrypted " ..
    "under handshake keys that no key log holds")
  return string.format("Noise message 2 (<- e, ee) %d bytes: server parameters, encrypted", len)
end

local function dissect_msg3(body, root, rec)
  local len = body:len()
  if len < MSG3_MIN then
    root:add_proto_expert_info(e.bad_size, string.format(
      "Noise message 3 must be at least %d bytes (static 48 + identity 33 + tag 16), not %d",
      MSG3_MIN, len))
    root:add(f.data, body)
    return "Noise message 3 (too short)"
  end
  root:add(f.encrypted_static, body:range(0, MSG3_STATIC))
  add_connection_id(root, body, rec)
  root:add(f.encrypted_payload, body:range(MSG3_STATIC))
  add_generated(root, f.payload_length, len - MSG3_STATIC - TAG_LEN)
  -- Never shown as known: the client's static key and identity are encrypted under handshake
  -- keys the key log does not hold, so an observer with the key log cannot read them either.
  add_generated(root, f.contents, "the client's static key and identity (Ed25519 key), " ..
    "encrypted: not readable, not even with the key log")
  return string.format("Noise message 3 (-> s, se) %d bytes: client identity, encrypted", len)
end

local function dissect_refusal(body, root)
  root:add(f.magic, body:range(0, 4))
  if body:len() < 5 then
    root:add_proto_expert_info(e.bad_size, "Refusal must hold at least magic and version")
    return "Refusal (too short)"
  end
  root:add(f.version, body:range(4, 1))
  local reason = body:len() > 5 and body:range(5):raw() or ""
  if #reason > 0 then root:add(f.reason, body:range(5), reason) end
  if #reason > REFUSAL_MAX_REASON then
    root:add_proto_expert_info(e.bad_size, "Refusal reason is longer than 512 bytes")
  end
  root:add_proto_expert_info(e.refusal,
    "Server refused, unauthenticated (plaintext: anyone on the path can send one): " .. reason)
  return "Refusal (unauthenticated): " .. utf8_prefix(reason, INFO_JSON_MAX)
end

-- Opens a session frame with the logged key of its direction; cached per frame and key, since
-- Wireshark re-dissects a packet every time it is shown.
local function open_session(fkey, rec, body)
  local keys = session_keys_for(rec.conn_id)
  if not keys then return nil end
  local key = keys[rec.dir]
  local cached = opened[fkey]
  if cached and cached.key == key then return cached end
  local status, plain = crypto.open_session_v2(body:raw(), key)
  cached = { key = key, status = status, plain = plain }
  opened[fkey] = cached
  return cached
end

local function show_plaintext(root, plain)
  add_generated(root, f.plaintext_length, #plain)
  if #plain == 0 then return nil end  -- an empty plaintext: the receiver answers bad_json
  local ptvb = ByteArray.new(plain, true):tvb("natter plaintext")
  root:add(f.plaintext, ptvb:range(), plain)
  local message_type = plain:match('^%s*{.-"type"%s*:%s*"([^"]*)"')
  if message_type then add_generated(root, f.message_type, message_type) end
  return ptvb
end

-- Hands the plaintext to Wireshark's own JSON dissector, so every member is browsable and
-- filterable (json.member_with_value etc.). It writes its own text into the columns: a fence
-- keeps natter's Info text, and whatever JSON appended after it is cut off again.
local function call_json(ptvb, pinfo, root)
  local json = Dissector.get("json")
  if not json then return end
  pinfo.cols.info:fence()
  pcall(json.call, json, ptvb, pinfo, root)
  pinfo.cols.info = ""
  pinfo.cols.protocol = "natter"
end

-- A counter (a double, exact below 2^53) as a UInt64 for a uint64 field.
local function u64(n)
  return UInt64.new(n % 4294967296, math.floor(n / 4294967296))
end

-- ===========================================================================================
-- Layer 2: the end-to-end messages inside the session frames (docs/E2E.md, docs/WIRESHARK.md).
-- A decrypted session frame is a JSON message or a batch (an array) of them; each of type "e2e"
-- is shown in two parts: what the server sees (the routing envelope: type, kind, from, to, ids,
-- the body's size, and the body's cleartext header) and what only the recipients can read (the
-- body's content, sealed client to client with XChaCha20-Poly1305). The content is opened only
-- with a NATTER_E2E_KEY line for its message key.
-- ===========================================================================================
local E2E_NONCE_LEN, E2E_TAG_LEN, E2E_BLOCK = 24, 16, crypto.E2E_BLOCK
local E2E_PAIRWISE_HEADER = 13       -- 1 ‖ session id 8 ‖ n 4
local E2E_KK_LEN = 48                -- Noise KK message with an empty payload: e 32 ‖ tag 16
local E2E_SIG_LEN = 64
local E2E_MAX_ROOM = 64
local NOT_READABLE = "end-to-end: not readable without the end-to-end key log"

-- The end-to-end key log (docs/E2E.md §12), format 2:
--   NATTER_E2E_KEY pairwise <session id 16 hex> <n> <sender>-><recipient> <message key 64 hex>
--   NATTER_E2E_KEY room <sender key id 16 hex> <n> <message key 64 hex>
-- Both directions of a pairwise session share its id and count n from 0, so the line names its
-- direction; the envelope of every pairwise body names the recipient ("to"), so one line is
-- found for a body: "pairwise:<id>:<n>:<recipient>". Format 1 pairwise lines (no direction) are
-- still read, under "pairwise:<id>:<n>", and tried only for a body no format 2 line names.
-- Names are [A-Za-z0-9_.-]. Other lines are ignored.
local E2E_NAME = "[%w_.%-]+"
local E2E_PAIRWISE_LINE = "^%s*NATTER_E2E_KEY%s+pairwise%s+(%x+)%s+(%d+)%s+(" .. E2E_NAME .. ")%->(" ..
  E2E_NAME .. ")%s+(%x+)%s*$"
local E2E_UNDIRECTED_LINE = "^%s*NATTER_E2E_KEY%s+(%a+)%s+(%x+)%s+(%d+)%s+(%x+)%s*$"

local function read_e2e_keylog(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local content = fh:read("*a") or ""
  fh:close()
  local keys = {}
  local function add(name, mk, sender)
    local list = keys[name] or {}
    local key = crypto.fromhex(mk)
    for _, k in ipairs(list) do
      if k.key == key then return end  -- the sealer's and an opener's log may both be given
    end
    list[#list + 1] = { key = key, sender = sender }
    keys[name] = list
  end
  for line in content:gmatch("[^\r\n]+") do
    local id, n, sender, recipient, mk = line:match(E2E_PAIRWISE_LINE)
    if id and #id == 16 and #mk == 64 and #n <= 10 then
      add("pairwise:" .. id:lower() .. ":" .. tonumber(n) .. ":" .. recipient, mk, sender)
    else
      local kind
      kind, id, n, mk = line:match(E2E_UNDIRECTED_LINE)
      if (kind == "pairwise" or kind == "room") and #id == 16 and #mk == 64 and #n <= 10 then
        add(kind .. ":" .. id:lower() .. ":" .. tonumber(n), mk, nil)
      end
    end
  end
  return keys, #content
end

-- The key list for `name` (see read_e2e_keylog), or nil; re-reads the file when its size changed
-- (the client appends a line per message key), as the hop key log does.
local function e2e_keys_named(name)
  local path = natter.prefs.e2e_keylog_file
  if path == nil or path == "" then return nil end
  if e2e_keylog.path ~= path then
    reset_e2e_keylog()
    e2e_keylog.path = path
  end
  if e2e_keylog.keys[name] then return e2e_keylog.keys[name] end
  local size = file_size(path)
  if size == nil then
    e2e_keylog.missing, e2e_keylog.size, e2e_keylog.keys = true, nil, {}
    return nil
  end
  e2e_keylog.missing = false
  if size ~= e2e_keylog.size then
    local read, read_size = read_e2e_keylog(path)
    e2e_keylog.keys, e2e_keylog.size = read or {}, read_size
  end
  return e2e_keylog.keys[name]
end

-- The keys for a body: (kind, id, n) from its header and, for a pairwise body, the envelope's
-- recipient; a format 1 line only when no format 2 line names the body.
local function e2e_key_for(kind, id_hex, n, recipient)
  if kind ~= "pairwise" then return e2e_keys_named(kind .. ":" .. id_hex .. ":" .. n) end
  local keys = recipient and e2e_keys_named("pairwise:" .. id_hex .. ":" .. n .. ":" .. recipient)
  return keys or e2e_keys_named("pairwise:" .. id_hex .. ":" .. n)
end

local function be32(s, i)
  local a, b, c, d = s:byte(i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function json_uint(v)
  local n = type(v) == "table" and v.number and tonumber(v.number)
  if n and n >= 0 and n == math.floor(n) and n < 2 ^ 53 then return n end
  return nil
end

-- How a body's direction is written in messages: "alice->bob", "->bob" when the envelope does
-- not name the sender (a client's request: the sender is the connection's user).
local function direction_of(env)
  return (env.from or "") .. "->" .. (env.to or "?")
end

-- "Only the recipients" when the body cannot be opened: why not.
local function not_opened(rtree, kind, id_hex, n, env)
  local path = natter.prefs.e2e_keylog_file
  local item = add_generated(rtree, f.e2e_recipients, NOT_READABLE)
  if path ~= nil and path ~= "" and e2e_keylog.missing then
    item:add_proto_expert_info(e.e2e_keylog_missing, "key log not found: " .. path)
  elseif path ~= nil and path ~= "" then
    local what = kind == "pairwise" and string.format("pairwise %s #%d %s", id_hex, n, direction_of(env)) or
      string.format("room %s #%d", id_hex, n)
    item:add_proto_expert_info(e.e2e_no_key, "no e2e key for " .. what .. " in the end-to-end key log: " ..
      NOT_READABLE)
  else
    item:add_proto_expert_info(e.e2e_no_key, NOT_READABLE)
  end
  return " [e2e not readable]"
end

-- Opens (cached) and shows the content; `what` is "text" or "distribution", `env` the envelope's
-- from and to (strings or nil).
local function open_and_show(rtree, ekey, kind, id_hex, n, ct, ad, nonce, what, env)
  local mks = e2e_key_for(kind, id_hex, n, env.to)
  if not mks then return not_opened(rtree, kind, id_hex, n, env) end
  local cached = e2e_opened[ekey]
  if not (cached and cached.keys == mks) then
    local status, plain, sender
    -- One key for a format 2 line; a format 1 line names both directions' keys, tried in turn.
    for _, mk in ipairs(mks) do
      status, plain = crypto.open_e2e(ct, ad, nonce, mk.key)
      sender = mk.sender
      if status ~= "auth_failed" then break end
    end
    cached = { keys = mks, status = status, plain = plain, sender = sender }
    e2e_opened[ekey] = cached
  end
  if cached.sender then
    local item = add_generated(rtree, f.e2e_direction, cached.sender .. "->" .. env.to)
    if env.from and env.from ~= cached.sender then
      item:add_proto_expert_info(e.e2e_sender_mismatch, string.format("The key log says %s sealed this body, " ..
        "the envelope says it is from %s: the server names another sender (the recipient's client warns)",
        cached.sender, env.from))
    end
  end
  if cached.status == "auth_failed" then
    local item = add_generated(rtree, f.e2e_aead_ok, false)
    item:add_proto_expert_info(e.e2e_auth_failed, "End-to-end AEAD check failed: the body (or its " ..
      "header) was altered on the way, e.g. by the server, or the logged key is not this message's")
    return " [e2e AEAD check failed]"
  elseif cached.status == "bad_padding" then
    add_generated(rtree, f.e2e_aead_ok, true)
    rtree:add_proto_expert_info(e.e2e_bad_padding, "Authentic body, but its plaintext is not " ..
      "sodium_pad's (64-byte blocks): the recipient refuses it")
    return " [e2e bad padding]"
  elseif cached.status ~= "ok" then
    rtree:add_proto_expert_info(e.e2e_bad_format, "Ciphertext is not whole 64-byte blocks + tag")
    return " [e2e bad size]"
  end
  add_generated(rtree, f.e2e_aead_ok, true)
  local plain = cached.plain
  add_generated(rtree, f.e2e_plaintext_length, #plain)
  if what == "text" then
    add_generated(rtree, f.e2e_text, plain)
    return ": " .. utf8_prefix(plain, INFO_JSON_MAX)
  end
  -- A sender key distribution (e2e_wire.hpp): 1 ‖ room len ‖ room ‖ epoch ‖ chain key 32 ‖
  -- iteration ‖ signing key 32. The chain key is a secret and is never shown, not even here.
  local rl = #plain >= 2 and plain:byte(2) or 0
  if #plain ~= 74 + rl or plain:byte(1) ~= 1 or rl < 1 or rl > E2E_MAX_ROOM then
    rtree:add_proto_expert_info(e.e2e_bad_format, string.format(
      "Not a sender key distribution (%d bytes): the recipient refuses it", #plain))
    return " [e2e key: not a distribution]"
  end
  local room = plain:sub(3, 2 + rl)
  local p = 3 + rl
  local signing_key = plain:sub(p + 40, p + 71)
  add_generated(rtree, f.e2e_dist_room, room)
  add_generated(rtree, f.e2e_dist_epoch, be32(plain, p))
  add_generated(rtree, f.e2e_dist_chain_key, "(chain key, 32 bytes)")
  add_generated(rtree, f.e2e_dist_iteration, be32(plain, p + 36))
  add_generated(rtree, f.e2e_dist_signing_key, crypto.tohex(signing_key))
  return string.format(": sender key for %s, epoch %d", utf8_prefix(room, 32), be32(plain, p))
end

-- The body of a pairwise kind (whisper, key): 1 ‖ session id ‖ n ‖ nonce ‖ ciphertext.
local function dissect_pairwise_body(raw, btvb, htree, rtree, ekey, what, env)
  local len = #raw
  if raw:byte(1) ~= 1 or len < E2E_PAIRWISE_HEADER + E2E_NONCE_LEN + E2E_TAG_LEN + E2E_BLOCK or
      (len - E2E_PAIRWISE_HEADER - E2E_NONCE_LEN - E2E_TAG_LEN) % E2E_BLOCK ~= 0 then
    htree:add_proto_expert_info(e.e2e_bad_format, string.format(
      "Not a pairwise body (version 1, header 13, nonce 24, whole 64-byte blocks + tag 16): %d bytes", len))
    return " [e2e malformed body]"
  end
  htree:add(f.e2e_version, btvb:range(0, 1))
  htree:add(f.e2e_session_id, btvb:range(1, 8))
  htree:add(f.e2e_n, btvb:range(9, 4))
  htree:add(f.e2e_nonce, btvb:range(13, E2E_NONCE_LEN))
  local ct_len = len - E2E_PAIRWISE_HEADER - E2E_NONCE_LEN
  htree:add(f.e2e_ciphertext, btvb:range(37, ct_len))
  add_generated(htree, f.e2e_ciphertext_length, ct_len)
  add_generated(htree, f.e2e_size_bucket, string.format("%d to %d bytes (%d padded)",
    ct_len - E2E_TAG_LEN - E2E_BLOCK, ct_len - E2E_TAG_LEN - 1, ct_len - E2E_TAG_LEN))
  return open_and_show(rtree, ekey, "pairwise", crypto.tohex(raw:sub(2, 9)), be32(raw, 10),
    raw:sub(38), raw:sub(1, E2E_PAIRWISE_HEADER), raw:sub(14, 37), what, env)
end

-- A room message: 1 ‖ room len ‖ room ‖ epoch ‖ sender key id ‖ n ‖ nonce ‖ ciphertext ‖ signature.
local function dissect_room_body(raw, btvb, htree, rtree, ekey, env)
  local len = #raw
  local rl = len >= 2 and raw:byte(2) or 0
  local hl = 18 + rl
  local ct_len = len - hl - E2E_NONCE_LEN - E2E_SIG_LEN
  if raw:byte(1) ~= 1 or rl < 1 or rl > E2E_MAX_ROOM or ct_len < E2E_TAG_LEN + E2E_BLOCK or
      (ct_len - E2E_TAG_LEN) % E2E_BLOCK ~= 0 then
    htree:add_proto_expert_info(e.e2e_bad_format, string.format("Not a room message: %d bytes", len))
    return " [e2e malformed room message]"
  end
  htree:add(f.e2e_version, btvb:range(0, 1))
  htree:add(f.e2e_room, btvb:range(2, rl))
  htree:add(f.e2e_epoch, btvb:range(2 + rl, 4))
  htree:add(f.e2e_sender_key_id, btvb:range(6 + rl, 8))
  htree:add(f.e2e_n, btvb:range(14 + rl, 4))
  htree:add(f.e2e_nonce, btvb:range(hl, E2E_NONCE_LEN))
  htree:add(f.e2e_ciphertext, btvb:range(hl + E2E_NONCE_LEN, ct_len))
  add_generated(htree, f.e2e_ciphertext_length, ct_len)
  add_generated(htree, f.e2e_size_bucket, string.format("%d to %d bytes (%d padded)",
    ct_len - E2E_TAG_LEN - E2E_BLOCK, ct_len - E2E_TAG_LEN - 1, ct_len - E2E_TAG_LEN))
  local sig = htree:add(f.e2e_signature, btvb:range(len - E2E_SIG_LEN, E2E_SIG_LEN))
  add_generated(sig, f.e2e_signature_status, "not verified by the dissector (the recipients verify " ..
    "it with the signing key of the sender's distribution)")
  local nonce_at = hl + 1
  return open_and_show(rtree, ekey, "room", crypto.tohex(raw:sub(7 + rl, 14 + rl)), be32(raw, 15 + rl),
    raw:sub(nonce_at + E2E_NONCE_LEN, len - E2E_SIG_LEN), raw:sub(1, hl), raw:sub(nonce_at, hl + E2E_NONCE_LEN),
    "text", env)
end

local function dissect_handshake_body(raw, btvb, htree, rtree)
  local k = raw:byte(1)
  if (k ~= 1 and k ~= 2) or #raw ~= 1 + E2E_KK_LEN then
    htree:add_proto_expert_info(e.e2e_bad_format, string.format(
      "Not a handshake message (kind 1 or 2, then a 48-byte Noise KK message): %d bytes", #raw))
    return " [e2e malformed handshake]"
  end
  htree:add(f.e2e_handshake_kind, btvb:range(0, 1))
  htree:add(f.e2e_ephemeral, btvb:range(1, 32))
  htree:add(f.e2e_payload, btvb:range(33, 16))
  add_generated(rtree, f.e2e_recipients, string.format("Noise_KK_25519_ChaChaPoly_SHA256 message %d " ..
    "(encrypted, %d bytes): sets up the pairwise session between the two identities; the server " ..
    "cannot read it, and no key log opens it (it carries no text)", k, E2E_KK_LEN))
  return k == 1 and " (init)" or " (response)"
end

-- One e2e message (a JSON object with type "e2e"); `ekey` names it for the cache.
local function dissect_e2e_message(obj, root, ekey)
  local m = obj.members
  local kind, from, to, body = m.kind, m.from, m.to, m.body
  if type(kind) ~= "string" then kind = "?" end
  local title = "e2e " .. kind
  if type(from) == "string" then title = title .. " from " .. from end
  if type(to) == "string" then title = title .. " to " .. to end
  if kind == "room" and type(to) ~= "string" then title = title .. " (the whole room)" end
  local etree = add_generated(root, f.e2e, title)

  local stree = add_generated(etree, f.e2e_server_sees,
    "the routing envelope (type, kind, from, to, ids, body size) and the body's cleartext header")
  add_generated(stree, f.e2e_type, "e2e")
  add_generated(stree, f.e2e_kind, kind)
  if type(from) == "string" then add_generated(stree, f.e2e_from, from) end
  if type(to) == "string" then add_generated(stree, f.e2e_to, to) end
  for _, x in ipairs({ { "id", f.e2e_id }, { "ts", f.e2e_ts }, { "ref", f.e2e_ref } }) do
    local n = json_uint(m[x[1]])
    if n then add_generated(stree, x[2], u64(n)) end
  end
  if type(body) ~= "string" then
    stree:add_proto_expert_info(e.e2e_bad_format, "No body string")
    return title .. " [no body]"
  end
  add_generated(stree, f.e2e_body_b64_length, #body)
  local raw = crypto.base64_decode(body)
  if not raw or #raw == 0 then
    stree:add_proto_expert_info(e.e2e_bad_format, "Body is not standard base64 (RFC 4648, padded)")
    return title .. " [body not base64]"
  end
  add_generated(stree, f.e2e_body_size, #raw)
  local btvb = ByteArray.new(raw, true):tvb("natter e2e body (base64-decoded)")
  local htree = stree:add(f.e2e_body, btvb:range())
  local rtree = add_generated(etree, f.e2e_recipients, "the body's content, sealed client to client")
  local result
  local env = { from = type(from) == "string" and from or nil, to = type(to) == "string" and to or nil }
  if kind == "handshake" then
    result = dissect_handshake_body(raw, btvb, htree, rtree)
  elseif kind == "whisper" then
    result = dissect_pairwise_body(raw, btvb, htree, rtree, ekey, "text", env)
  elseif kind == "key" then
    result = dissect_pairwise_body(raw, btvb, htree, rtree, ekey, "distribution", env)
  elseif kind == "room" then
    result = dissect_room_body(raw, btvb, htree, rtree, ekey, env)
  else
    stree:add_proto_expert_info(e.e2e_bad_format, "Unknown kind (handshake, key, whisper, room)")
    result = " [unknown kind]"
  end
  etree:append_text(result)
  return title .. result
end

-- Every e2e message in a decrypted frame's JSON; returns a summary for the Info column, or nil.
local function dissect_e2e(plain, root, fkey)
  if not plain:find('"e2e"', 1, true) then return nil end  -- the common case, without parsing
  local v = crypto.json_decode(plain)
  if type(v) ~= "table" then return nil end
  local items = v.array and v or { n = 1, v }
  local parts = {}
  for i = 1, items.n do
    local obj = items[i]
    if type(obj) == "table" and obj.members and obj.members.type == "e2e" then
      parts[#parts + 1] = dissect_e2e_message(obj, root, fkey .. "#" .. i)
    end
  end
  if #parts == 0 then return nil end
  return " | " .. table.concat(parts, " | ")
end

local function dissect_nonce(body, root, rec)
  local nonce_item = root:add(f.nonce, body:range(0, NONCE_LEN))
  local dir_byte = body:range(0, 1):uint()
  local dir_item = nonce_item:add(f.nonce_direction, body:range(0, 1))
  if dir_byte ~= 1 and dir_byte ~= 2 then
    dir_item:add_proto_expert_info(e.bad_nonce, "Direction byte must be 0x01 or 0x02")
  elseif (dir_byte == 1) ~= (rec.dir == "c2s") then
    dir_item:add_proto_expert_info(e.bad_nonce,
      "Direction byte is the receiver's own: a reflected frame, which the receiver rejects")
  end
  local pad_item = nonce_item:add(f.padding, body:range(1, 15))
  if body:range(1, 15):raw() ~= ZERO15 then
    pad_item:add_proto_expert_info(e.bad_nonce, "Nonce padding must be 15 zero bytes")
  end
  local counter_item = nonce_item:add(f.counter, body:range(16, 8))
  -- %.0f: a counter can exceed Lua 5.2's integer range for %d.
  if rec.counter_status == "gap" then
    add_generated(nonce_item, f.expected, u64(rec.previous_counter + 1))
    local first, last = rec.previous_counter + 1, rec.counter - 1
    counter_item:add_proto_expert_info(e.gap, first == last
      and string.format("Frame %.0f missing: counter %.0f follows %.0f in this direction " ..
        "(a relay dropped a frame; the receiver closes)", first, rec.counter, rec.previous_counter)
      or string.format("Frames %.0f to %.0f missing: counter %.0f follows %.0f in this direction " ..
        "(the receiver closes)", first, last, rec.counter, rec.previous_counter))
  elseif rec.counter_status == "replay" then
    add_generated(nonce_item, f.expected, u64(rec.previous_counter + 1))
    counter_item:add_proto_expert_info(e.replay, string.format(
      "Counter %.0f not greater than the previous one (%.0f) in this direction: replayed, " ..
      "reordered or reflected (the receiver closes)", rec.counter, rec.previous_counter))
  end
end

local function dissect_session(body, root, pinfo, rec, fkey)
  local arrow = arrows[rec.dir]
  if body:len() < NONCE_LEN + MAC_LEN then
    root:add_proto_expert_info(e.bad_size,
      string.format("Session frame must be at least %d bytes, not %d", SESSION_MIN, body:len()))
    root:add(f.data, body)
    return "Session " .. arrow .. " (too short)"
  end
  dissect_nonce(body, root, rec)
  root:add(f.mac, body:range(NONCE_LEN, MAC_LEN))
  local ct_len = body:len() - NONCE_LEN - MAC_LEN
  if ct_len > 0 then root:add(f.ciphertext, body:range(NONCE_LEN + MAC_LEN)) end
  local ct_item = add_generated(root, f.ciphertext_length, ct_len)
  if body:len() < SESSION_MIN or ct_len % BLOCK ~= 0 then
    ct_item:add_proto_expert_info(e.bad_size, string.format(
      "A session frame holds whole 128-byte blocks (at least one), not %d bytes", ct_len))
  else
    -- What anyone sees: the padding rounds up to whole blocks, adding 1..128 bytes.
    add_generated(root, f.size_bucket, string.format("%d to %d bytes (%d padded)",
      ct_len - BLOCK, ct_len - 1, ct_len))
  end
  add_connection_id(root, body, rec)

  -- The counter as text from the 64-bit field: a double (rec.counter) is exact only below 2^53.
  local head = string.format("Session %s #%s", arrow, tostring(body:range(16, 8):uint64()))
  if rec.counter_status == "gap" then
    head = head .. string.format(" [frame %.0f missing]", rec.previous_counter + 1)
  elseif rec.counter_status == "replay" then
    head = head .. " [counter not increasing]"
  end
  local result = open_session(fkey, rec, body)
  if result and result.status == "ok" then
    add_generated(root, f.mac_ok, true)
    return head .. " " .. utf8_prefix(result.plain, INFO_JSON_MAX), show_plaintext(root, result.plain)
  elseif result and result.status == "bad_padding" then
    add_generated(root, f.mac_ok, true)
    root:add_proto_expert_info(e.bad_padding, "Authentic frame, but its plaintext is not " ..
      "padded to 128-byte blocks as sodium_pad does: the receiver closes")
    return head .. " [bad padding]"
  elseif result and result.status == "bad_mac" then
    local item = add_generated(root, f.mac_ok, false)
    item:add_proto_expert_info(e.mac_failed, "MAC check failed: the frame was altered, or the " ..
      "logged key is not this connection's")
    return head .. " [MAC check failed]"
  elseif result then
    return head .. " [too short to open]"
  end
  local path = natter.prefs.keylog_file
  if path ~= nil and path ~= "" then
    if keylog.missing then
      root:add_proto_expert_info(e.keylog_missing, "key log not found: " .. path)
    else
      root:add_proto_expert_info(e.no_key, rec.conn_id
        and "No key for connection " .. rec.conn_id .. " in the key log"
        or "Connection id unknown (the client's hello was not captured)")
    end
  end
  return string.format("%s [%d bytes encrypted]", head, ct_len)
end

local kind_names = {
  server_hello = "server hello", client_hello = "client hello + message 1",
  msg2 = "message 2", msg3 = "message 3", refusal = "refusal", session = "session",
  hello_other = "hello, unsupported version", other_version = "frame of an unsupported version",
  empty = "empty frame", too_long = "over-long frame", unexpected = "unexpected frame",
  after_error = "data after a framing error",
}

local function dissect_body(body, root, pinfo, rec, fkey)
  if rec.kind == "server_hello" then return dissect_server_hello(body, root, rec) end
  if rec.kind == "client_hello" then return dissect_client_hello(body, root, rec) end
  if rec.kind == "msg2" then return dissect_msg2(body, root, rec) end
  if rec.kind == "msg3" then return dissect_msg3(body, root, rec) end
  if rec.kind == "refusal" then return dissect_refusal(body, root) end
  if rec.kind == "session" then return dissect_session(body, root, pinfo, rec, fkey) end
  if rec.kind == "hello_other" then
    if body:len() < HELLO_HEADER_LEN then
      root:add(f.data, body)
      return "Hello (too short)"
    end
    return dissect_other_hello(body, root, rec)
  end
  root:add(f.data, body)
  if rec.kind == "other_version" then
    root:add_proto_expert_info(e.unsupported, "After a hello of another protocol version: not parsed")
    return "Frame of an unsupported protocol version"
  end
  root:add_proto_expert_info(e.unexpected, "Expected " .. rec.expected)
  return "Unexpected frame"
end

local function dissect_pdu_unprotected(tvb, pinfo, tree)
  local first = safe_tostring(pinfo.cols.protocol) ~= "natter"
  local ckey = conversation_key(pinfo)
  -- Identifies this PDU across re-dissections: the packet, and where the PDU's bytes sit
  -- (a packet can hold the end of one reassembled frame followed by whole frames).
  local fkey = table.concat({ pinfo.number, tvb:offset(), tvb:len() }, ":")
  local rec = records[fkey]
  if not rec then
    rec = classify(tvb, pinfo, ckey)
    records[fkey] = rec
  end

  local root = tree:add(natter, tvb:range())
  add_generated(root, f.kind, kind_names[rec.kind])
  add_generated(root, f.direction, rec.dir == "c2s" and "client → server" or "server → client")
  if rec.index then add_generated(root, f.index, rec.index) end

  local info, plaintext_tvb
  if rec.kind == "after_error" then
    root:add(f.data, tvb:range())
    root:add_proto_expert_info(e.after_error,
      "Framing was lost earlier in this direction; these bytes are not parsed")
    info = "Data after a framing error"
  else
    local length_item = root:add(f.length, tvb:range(0, HEADER_LEN))
    if rec.kind == "empty" then
      length_item:add_proto_expert_info(e.bad_length,
        "Empty frame (length 0): a fatal protocol error, the receiver closes")
      info = "Empty frame"
    elseif rec.kind == "too_long" then
      length_item:add_proto_expert_info(e.bad_length, string.format(
        "Length %d exceeds the maximum frame size %d: a fatal protocol error, " ..
        "the receiver closes without reading the body", rec.declared, natter.prefs.max_frame))
      if tvb:len() > HEADER_LEN then root:add(f.data, tvb:range(HEADER_LEN)) end
      info = string.format("Frame length %d too long", rec.declared)
    else
      info, plaintext_tvb = dissect_body(tvb:range(HEADER_LEN), root, pinfo, rec, fkey)
    end
  end
  root:append_text(", " .. info)
  set_info(pinfo, first, info)
  if plaintext_tvb then
    call_json(plaintext_tvb, pinfo, root)
    local summary = dissect_e2e(plaintext_tvb:range():raw(), root, fkey)
    if summary then
      root:append_text(summary)
      pinfo.cols.info:append(summary)
    end
  end
end

local function dissect_pdu(tvb, pinfo, tree)
  -- Malformed input must never abort dissection of the rest of the capture: any Lua error is
  -- shown as an expert item on this frame instead.
  local ok, err = pcall(dissect_pdu_unprotected, tvb, pinfo, tree)
  if not ok then
    tree:add_proto_expert_info(e.internal, "natter dissector error: " .. tostring(err))
  end
  return tvb:len()
end

-- Length of the PDU at `offset`: prefix + body. An out-of-range length cannot be trusted to
-- frame anything, so the rest of the segment is taken as one (flagged) PDU instead of asking
-- TCP to reassemble up to 4 GiB; after that the flow is unframed ("dead").
local function get_len(tvb, pinfo, offset)
  local lkey = table.concat({ pinfo.number, tvb:offset(), tvb:len(), offset }, ":")
  local cached = lengths[lkey]
  if cached then return cached end
  local flow = conversation_key(pinfo) .. ">" .. source(pinfo)
  local declared = tvb:range(offset, HEADER_LEN):uint()
  local len = HEADER_LEN + declared
  if dead[flow] or declared > natter.prefs.max_frame then
    len = tvb:len() - offset
    dead[flow] = true
  end
  if not pinfo.visited then
    lengths[lkey] = len
    if offset + len > tvb:len() then
      -- Not complete yet; cleared by classify when it is. What is left at the end of the
      -- capture never completed, and is reported when the packet is shown again.
      pending[flow] = { number = pinfo.number, offset = offset, tvb_len = tvb:len(),
        have = tvb:len() - offset, total = len }
    end
  end
  return len
end

function natter.dissector(tvb, pinfo, tree)
  dissect_tcp_pdus(tvb, tree, HEADER_LEN, get_len, dissect_pdu, true)
  return tvb:len()
end

-- A frame still incomplete when the capture ends is never handed back by TCP, not even when
-- the packet is dissected again, so a post-dissector reports it: on any dissection after the
-- first pass (the GUI, `tshark -2`) the frames still pending are known to be truncated.
local natter_end = Proto("natter_end", "natter frames cut off by the end of the capture")
local f_tcp_payload = Field.new("tcp.payload")

function natter_end.dissector(tvb, pinfo, tree)
  if not pinfo.visited or next(pending) == nil then return end
  local p = pending[conversation_key(pinfo) .. ">" .. source(pinfo)]
  if not p or p.number ~= pinfo.number then return end
  local payloads = { f_tcp_payload() }
  local payload = payloads[#payloads]
  local start = payload and payload.offset + p.offset or tvb:len() - p.have
  if start < 0 or start + p.have > tvb:len() then start = 0 end
  local root = tree:add(natter, tvb:range(start, p.have))
  root:add(f.length, tvb:range(start, HEADER_LEN))
  root:add_proto_expert_info(e.truncated, string.format(
    "Frame truncated: the capture ends before the %d bytes of this frame (%d in this segment)",
    p.total, p.have))
  root:append_text(", truncated frame")
  pinfo.cols.protocol = "natter"
  pinfo.cols.info = "Truncated frame"
end
register_postdissector(natter_end)

-- A natter connection starts with the server's 40-byte hello (any version, so a protocol 1
-- server is recognised too), or a refusal.
local function heuristic(tvb, pinfo, tree)
  if tvb:len() < HEADER_LEN + 6 then return false end
  local declared = tvb:range(0, HEADER_LEN):uint()
  local magic = tvb:range(4, 4):string()
  local role = tvb:range(9, 1):uint()
  local hello = magic == "NATR" and declared == HELLO_LEN and role == 2
  local refusal = magic == "NATE" and declared >= 5 and declared <= 5 + REFUSAL_MAX_REASON
  if not hello and not refusal then return false end
  pinfo.conversation = natter  -- the rest of this TCP connection comes straight here
  natter.dissector(tvb, pinfo, tree)
  return true
end
natter:register_heuristic("tcp", heuristic)

local registered_port
local function register_port()
  local tcp_port = DissectorTable.get("tcp.port")
  if registered_port and registered_port ~= 0 then tcp_port:remove(registered_port, natter) end
  registered_port = natter.prefs.port
  if registered_port ~= 0 then tcp_port:add(registered_port, natter) end
end
register_port()

function natter.prefs_changed()
  register_port()
  reset_keylog()
  reset_e2e_keylog()
  opened, e2e_opened = {}, {}
end
