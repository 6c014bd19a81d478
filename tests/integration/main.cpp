#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

#include "natter/crypto/keys.hpp"

int main(int argc, char** argv) {
  natter::crypto::init_sodium();
  std::signal(SIGPIPE, SIG_IGN);  // a test writing to a socket the server closed must not die
  doctest::Context context(argc, argv);
  return context.run();
}
