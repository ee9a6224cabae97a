// The benchmark's baseline: a workerd worker that only answers a constant 302.
export default {
  fetch() {
    return new Response(null, {
      status: 302,
      headers: { Location: "https://example.com/", "Cache-Control": "private, max-age=0, no-cache" },
    });
  },
};
