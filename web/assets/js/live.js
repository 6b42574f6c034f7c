// Text shown as a job writes it: the job's `delta` events appended to one element. A summary or an answer comes a
// sentence at a time, each once it has passed its checks, so nothing shown here is taken back; the finished result
// then takes its place.

export function liveText(element) {
  let text = "";
  return {
    // The next piece, at its offset (a piece already shown, from a stream that started again, is not repeated).
    add({ text: piece, offset }) {
      if (typeof piece !== "string" || offset > text.length) return;
      text = text.slice(0, offset) + piece;
      element.textContent = text;
      element.hidden = !text;
    },
    clear() {
      text = "";
      element.textContent = "";
      element.hidden = true;
    },
  };
}
