// Drop zones: a box whose label opens the file picker, that also takes files dragged onto it.

// onFiles(files) hears the files dropped on the zone (a FileList).
export function bindDropZone(zone, onFiles) {
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("is-dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-dragging");
    const files = event.dataTransfer ? event.dataTransfer.files : null;
    if (files && files.length) onFiles(files);
  });
}

// A file dropped beside a zone must not replace the page with the file.
export function guardPageDrops() {
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => {
    if (!(event.target instanceof Element && event.target.closest(".drop-zone"))) event.preventDefault();
  });
}

// Put files into a file input, as if they had been picked.
export function setInputFiles(input, files) {
  const transfer = new DataTransfer();
  for (const file of files) transfer.items.add(file);
  input.files = transfer.files;
}

export function isPdf(file) {
  return Boolean(file) && (/\.pdf$/i.test(file.name) || file.type === "application/pdf");
}
