// wasi:io (error, poll, streams) and the stream implementations over file descriptors.
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kWriteBudget = 1 << 20;  // check-write permits this much per step

bool fdReady(int fd, short events) {
  pollfd p{fd, events, 0};
  int r = ::poll(&p, 1, 0);
  return r > 0;
}

class FdInput : public InputStream {
 public:
  FdInput(int fd, std::optional<uint64_t> offset, std::shared_ptr<void> keep)
      : fd_(fd), offset_(offset), keep_(std::move(keep)) {}
  StreamResult read(uint64_t len, bool blocking) override {
    if (closed_) return StreamResult::closed();
    len = std::min<uint64_t>(len, 1 << 20);
    StreamResult r;
    if (len == 0) return r;
    if (!offset_ && !blocking && !fdReady(fd_, POLLIN)) return r;
    r.data.resize(len);
    ssize_t n;
    do {
      n = offset_ ? ::pread(fd_, r.data.data(), len, static_cast<off_t>(*offset_))
                  : ::read(fd_, r.data.data(), len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN && blocking) {  // a non-blocking socket: wait, then retry
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, -1);
      return read(len, blocking);
    }
    if (n < 0) {
      if (errno == EAGAIN) {
        r.data.clear();
        return r;
      }
      return StreamResult::failed(std::strerror(errno), errno);
    }
    if (n == 0) {
      closed_ = true;
      return StreamResult::closed();
    }
    r.data.resize(static_cast<size_t>(n));
    if (offset_) *offset_ += static_cast<uint64_t>(n);
    return r;
  }
  std::unique_ptr<Pollable> subscribe() override {
    if (offset_) return readyPollable();  // a file: reads never wait
    auto p = std::make_unique<Pollable>();
    p->fd = fd_;
    p->events = POLLIN;
    return p;
  }

 private:
  int fd_;
  std::optional<uint64_t> offset_;
  std::shared_ptr<void> keep_;
  bool closed_ = false;
};

class FdOutput : public OutputStream {
 public:
  FdOutput(int fd, std::optional<uint64_t> offset, bool append, std::shared_ptr<void> keep)
      : fd_(fd), offset_(offset), append_(append), keep_(std::move(keep)) {}
  StreamResult checkWrite() override {
    StreamResult r;
    r.count = kWriteBudget;
    return r;
  }
  StreamResult write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n;
      if (offset_ && !append_) {
        n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(*offset_));
      } else if (append_) {
        // Files are not opened O_APPEND (wasi:filesystem writes them at explicit offsets too), so
        // ask for this one write to go to the end of the file.
        iovec iov{const_cast<char*>(data.data()), data.size()};
        n = ::pwritev2(fd_, &iov, 1, -1, RWF_APPEND);
      } else {
        n = ::write(fd_, data.data(), data.size());
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pollfd p{fd_, POLLOUT, 0};
          ::poll(&p, 1, -1);
          continue;
        }
        return StreamResult::failed(std::strerror(errno), errno);
      }
      if (offset_ && !append_) *offset_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }
  std::unique_ptr<Pollable> subscribe() override { return readyPollable(); }

 private:
  int fd_;
  std::optional<uint64_t> offset_;
  bool append_;
  std::shared_ptr<void> keep_;
};

class CallbackOutput : public OutputStream {
 public:
  explicit CallbackOutput(std::function<void(std::string_view)> sink) : sink_(std::move(sink)) {}
  StreamResult checkWrite() override {
    StreamResult r;
    r.count = kWriteBudget;
    return r;
  }
  StreamResult write(std::string_view data) override {
    sink_(data);
    return {};
  }
  std::unique_ptr<Pollable> subscribe() override { return readyPollable(); }

 private:
  std::function<void(std::string_view)> sink_;
};

class EmptyInput : public InputStream {
 public:
  StreamResult read(uint64_t, bool) override { return StreamResult::closed(); }
  std::unique_ptr<Pollable> subscribe() override { return readyPollable(); }
};

Val resultOf(CallContext& cx, const Types& t, const StreamResult& r, Val ok) {
  if (r.status != StreamResult::Status::kOk) return streamError(cx, t, r);
  return ok.isUnit() ? Val::okUnit() : Val::ok(std::move(ok));
}

// Blocks until at least one pollable is ready; returns the indices of the ready ones.
std::vector<uint32_t> pollAll(const std::vector<Pollable*>& ps) {
  while (true) {
    std::vector<uint32_t> ready;
    for (size_t i = 0; i < ps.size(); ++i)
      if (ps[i]->isReady()) ready.push_back(static_cast<uint32_t>(i));
    if (!ready.empty()) return ready;
    std::vector<pollfd> fds;
    std::optional<Clock::time_point> deadline;
    bool custom = false;
    for (Pollable* p : ps) {
      if (p->fd >= 0) fds.push_back(pollfd{p->fd, p->events, 0});
      if (p->deadline) deadline = deadline ? std::min(*deadline, *p->deadline) : *p->deadline;
      if (p->ready && p->fd < 0 && !p->deadline) custom = true;
    }
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      timeout = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, INT32_MAX));
    }
    if (custom) timeout = timeout < 0 ? 1 : std::min(timeout, 1);
    ::poll(fds.data(), fds.size(), timeout);
  }
}

}  // namespace

bool Pollable::isReady() const {
  if (ready) return ready();
  if (deadline && Clock::now() >= *deadline) return true;
  if (fd >= 0) return fdReady(fd, events);
  return !deadline;
}

std::unique_ptr<InputStream> fdInputStream(int fd, std::optional<uint64_t> offset,
                                           std::shared_ptr<void> keep_alive) {
  return std::make_unique<FdInput>(fd, offset, std::move(keep_alive));
}
std::unique_ptr<OutputStream> fdOutputStream(int fd, std::optional<uint64_t> offset, bool append,
                                             std::shared_ptr<void> keep_alive) {
  return std::make_unique<FdOutput>(fd, offset, append, std::move(keep_alive));
}
std::unique_ptr<OutputStream> callbackOutputStream(std::function<void(std::string_view)> sink) {
  return std::make_unique<CallbackOutput>(std::move(sink));
}
std::unique_ptr<InputStream> emptyInputStream() { return std::make_unique<EmptyInput>(); }

std::unique_ptr<Pollable> readyPollable() {
  auto p = std::make_unique<Pollable>();
  p->ready = [] { return true; };
  return p;
}

void addIo(component::Linker& l, Types& t) {
  const std::string err = iface("wasi:io/error");
  const std::string poll = iface("wasi:io/poll");
  const std::string streams = iface("wasi:io/streams");
  t.error = l.resource(err, "error", dropObject);
  t.pollable = l.resource(poll, "pollable", dropObject);
  t.input_stream = l.resource(streams, "input-stream", dropObject);
  t.output_stream = l.resource(streams, "output-stream", dropObject);
  Types* tp = &t;

  l.func(err, "[method]error.to-debug-string", [](CallContext& cx, Args& a) -> Expected<Val> {
    return Val::string(ctx(cx).table().get<IoError>(a[0]).message);
  });

  l.func(poll, "[method]pollable.ready", [](CallContext& cx, Args& a) -> Expected<Val> {
    return Val::boolean(ctx(cx).table().get<Pollable>(a[0]).isReady());
  });
  l.func(poll, "[method]pollable.block", [](CallContext& cx, Args& a) -> Expected<Val> {
    pollAll({&ctx(cx).table().get<Pollable>(a[0])});
    return Val();
  });
  l.func(poll, "poll", [](CallContext& cx, Args& a) -> Expected<Val> {
    const auto& list = a[0].elems();
    if (list.empty()) return makeError(ErrorCode::kTrap, "wasi:io/poll.poll: empty list");
    std::vector<Pollable*> ps;
    for (const Val& v : list) ps.push_back(&ctx(cx).table().get<Pollable>(v));
    std::vector<Val> out;
    for (uint32_t i : pollAll(ps)) out.push_back(Val::u32(i));
    return Val::list(std::move(out));
  });

  // input-stream
  auto read = [tp](bool blocking) {
    return [tp, blocking](CallContext& cx, Args& a) -> Expected<Val> {
      StreamResult r = ctx(cx).table().get<InputStream>(a[0]).read(a[1].asU64(), blocking);
      return resultOf(cx, *tp, r, Val::bytes(std::move(r.data)));
    };
  };
  l.func(streams, "[method]input-stream.read", read(false));
  l.func(streams, "[method]input-stream.blocking-read", read(true));
  auto skip = [tp](bool blocking) {
    return [tp, blocking](CallContext& cx, Args& a) -> Expected<Val> {
      StreamResult r = ctx(cx).table().get<InputStream>(a[0]).read(a[1].asU64(), blocking);
      return resultOf(cx, *tp, r, Val::u64(r.data.size()));
    };
  };
  l.func(streams, "[method]input-stream.skip", skip(false));
  l.func(streams, "[method]input-stream.blocking-skip", skip(true));
  l.func(streams, "[method]input-stream.subscribe",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           return own(cx, tp->pollable, ctx(cx).table().get<InputStream>(a[0]).subscribe());
         });

  // output-stream
  l.func(streams, "[method]output-stream.check-write",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           StreamResult r = ctx(cx).table().get<OutputStream>(a[0]).checkWrite();
           return resultOf(cx, *tp, r, Val::u64(r.count));
         });
  auto write = [tp](bool flush) {
    return [tp, flush](CallContext& cx, Args& a) -> Expected<Val> {
      auto& s = ctx(cx).table().get<OutputStream>(a[0]);
      StreamResult r = s.write(a[1].asBytes());
      if (flush && r.status == StreamResult::Status::kOk) r = s.flush();
      return resultOf(cx, *tp, r, Val());
    };
  };
  l.func(streams, "[method]output-stream.write", write(false));
  l.func(streams, "[method]output-stream.blocking-write-and-flush", write(true));
  auto flush = [tp](CallContext& cx, Args& a) -> Expected<Val> {
    return resultOf(cx, *tp, ctx(cx).table().get<OutputStream>(a[0]).flush(), Val());
  };
  l.func(streams, "[method]output-stream.flush", flush);
  l.func(streams, "[method]output-stream.blocking-flush", flush);
  l.func(streams, "[method]output-stream.subscribe",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           return own(cx, tp->pollable, ctx(cx).table().get<OutputStream>(a[0]).subscribe());
         });
  auto zeroes = [tp](bool flush) {
    return [tp, flush](CallContext& cx, Args& a) -> Expected<Val> {
      auto& s = ctx(cx).table().get<OutputStream>(a[0]);
      StreamResult r = s.write(std::string(a[1].asU64(), '\0'));
      if (flush && r.status == StreamResult::Status::kOk) r = s.flush();
      return resultOf(cx, *tp, r, Val());
    };
  };
  l.func(streams, "[method]output-stream.write-zeroes", zeroes(false));
  l.func(streams, "[method]output-stream.blocking-write-zeroes-and-flush", zeroes(true));
  auto splice = [tp](bool blocking) {
    return [tp, blocking](CallContext& cx, Args& a) -> Expected<Val> {
      auto& out = ctx(cx).table().get<OutputStream>(a[0]);
      auto& in = ctx(cx).table().get<InputStream>(a[1]);
      StreamResult r = in.read(std::min<uint64_t>(a[2].asU64(), kWriteBudget), blocking);
      if (r.status != StreamResult::Status::kOk) return streamError(cx, *tp, r);
      StreamResult w = out.write(r.data);
      return resultOf(cx, *tp, w, Val::u64(r.data.size()));
    };
  };
  l.func(streams, "[method]output-stream.splice", splice(false));
  l.func(streams, "[method]output-stream.blocking-splice", splice(true));
}

}  // namespace cumulus::wasi
