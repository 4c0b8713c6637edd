// Keyboard for a list of two tabs (the WAI-ARIA tabs pattern): either arrow
// key selects the other tab, Home/End the first/last, and the selected tab
// gets focus. current is a ref holding the selected key; the tab buttons
// have the ids prefix + key. Used by the landing page and its validation
// errors dialog.
export function twoTabKeydown(e, current, first, second, prefix) {
  const next = { ArrowRight: null, ArrowLeft: null, Home: first, End: second };
  if (!(e.key in next)) return;
  e.preventDefault();
  current.value = next[e.key] || (current.value === first ? second : first);
  requestAnimationFrame(() => document.getElementById(`${prefix}${current.value}`).focus());
}
