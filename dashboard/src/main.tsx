import { render } from "preact";
import "./style.css";

render(<h1>Dashboard</h1>, document.getElementById("app") as HTMLElement);
