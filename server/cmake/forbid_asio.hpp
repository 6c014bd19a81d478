// Force-included (-include) into every source of natter_server_core: any use of Asio in the core,
// through whichever header, stops the build with "attempt to use poisoned 'asio'". The core
// decides; only natter_server_io does I/O.
#pragma once
#pragma GCC poison asio
