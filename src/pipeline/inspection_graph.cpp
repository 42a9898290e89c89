#include "pipeline/inspection_graph.hpp"

#include "pipeline/stages.hpp"

#include <oneapi/tbb/flow_graph.h>

#include <atomic>
#include <stdexcept>

namespace ws::pipeline {

namespace flow = oneapi::tbb::flow;

struct InspectionGraph::Impl {
  using AcquireNode = flow::async_node<SiteJob, WorkPtr>;

  GraphContext ctx;
  // The one frame-to-defects path, as the run's model says.
  inspect::FrameInspector inspector;
  // The golden image's alignment pyramid, made once for every frame of the run.
  kernels::GoldenPyramid golden_pyramid;
  std::size_t next_site = 0;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> max_in_flight{0};

  flow::graph g;
  flow::input_node<SiteJob> sites;
  flow::limiter_node<SiteJob, int> admit;
  AcquireNode acquire;
  flow::function_node<WorkPtr, WorkPtr> record;
  flow::function_node<WorkPtr, WorkPtr> preprocess;
  flow::function_node<WorkPtr, WorkPtr> detect;
  flow::function_node<WorkPtr, WorkPtr> classify;
  flow::sequencer_node<WorkPtr> reorder;
  flow::function_node<WorkPtr, int> publish;

  // The kernels' view of the run's stop token; a disabled Checkpoint when the spec turns them off.
  [[nodiscard]] Checkpoint checkpoint() const {
    return ctx.spec.kernel_checkpoints ? Checkpoint(ctx.token) : Checkpoint{};
  }

  static std::size_t concurrency(const NodeSpec& n) {
    return n.concurrency == 0 ? static_cast<std::size_t>(flow::unlimited) : n.concurrency;
  }

  // Runs a node body with the probe and failure reporting around it.
  template <typename Fn>
  void guarded(std::string_view node, std::size_t seq, Fn&& fn) {
    try {
      if (ctx.probe) ctx.probe(node, seq);
      fn();
    } catch (const std::exception& e) {
      if (ctx.on_body_failure) ctx.on_body_failure(node, e);
      throw;
    }
  }

  // The acquire node's body: counts the frame in flight, holds the graph's wait until the source
  // settles the delivery (deliver or abandon, exactly once).
  void acquire_site(const SiteJob& job, AcquireNode::gateway_type& gw) {
    const auto now = in_flight.fetch_add(1) + 1;
    auto seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    gw.reserve_wait();
    auto delivery = std::make_shared<Delivery>([&gw](const WorkPtr& w) { gw.try_put(w); },
                                               [&gw] { gw.release_wait(); });
    ctx.source->acquire(job, std::move(delivery));
  }

  // The edges, after every node exists (activation is run()'s).
  void connect() {
    flow::make_edge(sites, admit);
    flow::make_edge(admit, acquire);
    if (ctx.record) {
      flow::make_edge(acquire, record);
      flow::make_edge(record, preprocess);
    } else {
      flow::make_edge(acquire, preprocess);
    }
    flow::make_edge(preprocess, detect);
    flow::make_edge(detect, classify);
    flow::make_edge(classify, reorder);
    flow::make_edge(reorder, publish);
    flow::make_edge(publish, admit.decrementer());
  }

  Impl(GraphContext c, oneapi::tbb::task_group_context& tgc)
      : ctx(std::move(c)),
        inspector(inspect::FrameInspector::for_model(*ctx.classifier, ctx.recipe->detection)),
        // Only for a usable golden image: detect() reports the others per frame, as before.
        golden_pyramid(ctx.golden.empty() || ctx.golden.type() != CV_8UC1
                           ? kernels::GoldenPyramid{}
                           : kernels::golden_pyramid(ctx.golden, ctx.recipe->detection.band_rows)),
        g(tgc),
        sites(g,
              [this](oneapi::tbb::flow_control& fc) -> SiteJob {
                // No new site is admitted once a stop is requested.
                if (ctx.token.stop_requested() || next_site >= ctx.recipe->sites.size()) {
                  fc.stop();
                  return {};
                }
                const std::size_t seq = next_site++;
                return SiteJob{seq, ctx.recipe->sites[seq]};
              }),
        admit(g, ctx.spec.in_flight),
        acquire(g, flow::unlimited,
                [this](const SiteJob& job, AcquireNode::gateway_type& gw) {
                  guarded("acquire", job.seq, [&] { acquire_site(job, gw); });
                }),
        // Writes are independent files, so any concurrency is safe; the cap bounds the frames held.
        record(g, flow::unlimited,
               [this](WorkPtr w) {
                 guarded("record", w->job.seq, [&] { ctx.record(*w); });
                 return w;
               }),
        preprocess(g, concurrency(ctx.spec.preprocess),
                   [this](WorkPtr w) {
                     guarded("preprocess", w->job.seq, [&] {
                       preprocess_stage(*w, inspector, ctx.golden, ctx.flat, checkpoint());
                     });
                     return w;
                   }),
        detect(g, concurrency(ctx.spec.detect),
               [this](WorkPtr w) {
                 guarded("detect", w->job.seq, [&] {
                   detect_stage(*w, inspector, ctx.golden, checkpoint(),
                                golden_pyramid.golden.empty() ? nullptr : &golden_pyramid);
                 });
                 return w;
               }),
        classify(g, concurrency(ctx.spec.classify),
                 [this](WorkPtr w) {
                   guarded("classify", w->job.seq,
                           [&] { classify_stage(*w, inspector, *ctx.classifier, checkpoint()); });
                   return w;
                 }),
        reorder(g, [](const WorkPtr& w) -> std::size_t { return w->job.seq; }),
        publish(g, flow::serial, [this](WorkPtr w) {
          guarded("publish", w->job.seq, [&] {
            ctx.publish(w->result);
            ctx.tracker->mark(static_cast<std::size_t>(w->job.site.index), SitePhase::published);
          });
          in_flight.fetch_sub(1);
          return 1;
        }) {
    connect();
  }
};

InspectionGraph::InspectionGraph(GraphContext ctx, oneapi::tbb::task_group_context& tgc) {
  if (ctx.spec.in_flight == 0) throw std::invalid_argument("graph: in_flight cap must be >= 1");
  const char* missing = !ctx.recipe       ? "recipe"
                        : !ctx.source     ? "source"
                        : !ctx.classifier ? "classifier"
                        : !ctx.tracker    ? "tracker"
                        : !ctx.publish    ? "publish"
                                          : nullptr;
  if (missing != nullptr) {
    throw std::invalid_argument(std::string("graph: incomplete context: no ") + missing);
  }
  impl_ = std::make_unique<Impl>(std::move(ctx), tgc);
}

InspectionGraph::~InspectionGraph() = default;

void InspectionGraph::run() {
  impl_->sites.activate();
  impl_->g.wait_for_all();
}

void InspectionGraph::cancel() {
  impl_->g.cancel();
}

std::size_t InspectionGraph::max_in_flight() const noexcept {
  return impl_->max_in_flight.load();
}

}  // namespace ws::pipeline
