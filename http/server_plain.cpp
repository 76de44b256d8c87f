// The request loop over plain TCP (server_session.hpp), compiled apart from the TLS one.
#include "http/server_session.hpp"

namespace tl {

template net::asio::awaitable<void> Server::session<net::beast::tcp_stream>(net::beast::tcp_stream&,
                                                                            net::beast::flat_buffer,
                                                                            const std::string&);

}  // namespace tl
