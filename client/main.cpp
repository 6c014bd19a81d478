// natter: the command-line chat client. Everything lives in natter_client; see app.hpp.
#include "natter/client/app.hpp"

int main(int argc, char** argv) { return natter::client::run_app(argc, argv); }
