// natter_identity_keys: prints the public keys of a natter identity file v2, for the live
// Wireshark test, which must find neither of them in a capture (message 3 carries them
// encrypted). Only public keys are printed; the seed stays in the file.
//
//   natter_identity_keys FILE
//
// stdout: "ed25519 HEX" (the identity's name) and "x25519 HEX" (its Noise static key). Exit 0,
// or 1 with the reason on stderr if the file cannot be loaded (the v2 loader's own checks:
// owner, permissions, format) or holds a v1 identity.
#include <exception>
#include <iostream>
#include <variant>

#include "natter/crypto/identity_file_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

int main(int argc, char** argv) {
  namespace cr = natter::crypto;
  if (argc != 2) {
    std::cerr << "usage: natter_identity_keys IDENTITY_FILE\n";
    return 2;
  }
  try {
    cr::init_sodium();
    auto loaded = cr::load_identity_v2(argv[1]);
    const auto* identity = std::get_if<cr::identity_v2>(&loaded);
    if (identity == nullptr) {
      std::cerr << "natter_identity_keys: " << argv[1] << " holds a protocol 1 identity\n";
      return 1;
    }
    std::cout << "ed25519 " << cr::to_hex(identity->public_key()) << "\n"
              << "x25519 " << cr::to_hex(identity->x25519().public_key_bytes) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "natter_identity_keys: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
