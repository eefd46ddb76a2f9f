// host/api/network_call.hpp - Network::Call: holds a network for one public call, so that a
// second thread's call is refused with BusyError instead of racing (detail::CallOwner).
#pragma once

#include "qifsim/network.hpp"

namespace qifsim {

/// Holds the network for one public call (see CallOwner).
class Network::Call {
 public:
  Call(const Network& net, const char* name) : owner_(net.owner_) { owner_.enter(name); }
  ~Call() { owner_.leave(); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

 private:
  detail::CallOwner& owner_;
};

}  // namespace qifsim
