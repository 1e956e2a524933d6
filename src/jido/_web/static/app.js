// The page's entry point: the URL says which view to show.
import { startList } from "./list.js";
import { startRun } from "./run.js";

const path = location.pathname;
if (path.startsWith("/runs/") && path.length > "/runs/".length) {
  startRun(decodeURIComponent(path.slice("/runs/".length)));
} else {
  startList();
}
