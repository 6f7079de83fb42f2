//! The instructions that ask a model for artifacts, appended to the system prompt when a chat
//! turns them on: the conversation's `artifacts` setting, or the composer's Artifacts toggle
//! (LibreChat's `ephemeralAgent.artifacts`). Written here, in our own words; what matters is
//! that the model writes the syntax and the types both web apps render.
//!
//! The modes are LibreChat's (`ArtifactModes`): `default` gives the instructions, `shadcnui`
//! adds the shadcn/ui components a React artifact may import, and `custom` gives none (the
//! person writes their own in the system prompt). Any other non-empty value reads as `default`,
//! as in LibreChat. LibreChat words its instructions differently for Anthropic (XML-style
//! sections) than for the others (markdown sections); the difference is style only, so every
//! provider gets the one text below.

/// The artifacts mode a chat asks for: the composer's toggle first (LibreChat's client sends it
/// with every message, empty when off), else the conversation's `artifacts` setting.
pub fn mode<'a>(
    toggle: Option<&'a str>,
    setting: Option<&'a serde_json::Value>,
) -> Option<&'a str> {
    match toggle {
        Some(t) => Some(t),
        None => setting.and_then(serde_json::Value::as_str),
    }
    .filter(|m| !m.is_empty())
}

/// The instructions for `mode`, or `None` when the mode gives none (`custom`, or no mode).
pub fn instructions(mode: Option<&str>) -> Option<String> {
    match mode? {
        "" | "custom" => None,
        "shadcnui" => Some(format!("{INSTRUCTIONS}\n\n{}", shadcn_components())),
        _ => Some(INSTRUCTIONS.to_owned()),
    }
}

const INSTRUCTIONS: &str = r#"# Artifacts

You can put a substantial, self-contained piece of work in an artifact: the interface shows it in a panel beside the conversation, where the user can view it, copy it and edit it. Use one when the work stands on its own, is longer than about fifteen lines, and is something the user will likely keep, reuse or change: a web page, an SVG image, a diagram, a React component, a longer document. Do not use one for short snippets, explanations, examples that illustrate a point, answers to quick questions, or comments on an earlier artifact. When in doubt, answer in the conversation without an artifact, and do not mention artifacts unless the user asks about them. Put at most one artifact in an answer unless the user asks for more.

## Format

Write the artifact as a directive block. The opening line, on a line of its own:

:::artifact{identifier="kebab-case-id" type="mime-type" title="Short title"}

Then the content inside a code fence of four backticks (use a longer fence if the content itself contains a fence of four backticks), then a line with only `:::` to close it. For example:

:::artifact{identifier="greeting-page" type="text/html" title="Greeting page"}
````html
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello</title></head>
<body><h1>Hello!</h1></body>
</html>
````
:::

Rules:
- Keep the opening line whole, with all three attributes in double quotes, and never leave out the closing `:::`.
- `identifier`: a short kebab-case name for the piece of work. When you change an artifact you wrote before, write it again in full with the same identifier.
- `title`: a few words saying what it is.
- Always write the complete content: no placeholders, ellipses or "rest unchanged" comments.

## Types

- `text/html`: a single-file web page, with its CSS and JavaScript inline. Scripts may be loaded from https://cdnjs.cloudflare.com and nowhere else; the page cannot fetch data from the network or load remote images (use inline SVG or data URLs instead).
- `image/svg+xml`: an SVG image. Give it a `viewBox` rather than a fixed width and height.
- `text/markdown` (or `text/md`): a document in Markdown.
- `application/vnd.mermaid`: a Mermaid diagram (flowchart, sequence, class, state, Gantt, ...), the diagram's source only.
- `application/vnd.react`: a React component written in JSX, exported as the default export, with no required props. Style it with Tailwind classes (no arbitrary values such as `h-[600px]`). Import hooks from "react" (`import { useState } from "react"`). The only other libraries available are lucide-react, recharts, three, date-fns and react-day-picker, and the shadcn/ui components, imported from "/components/ui/<name>" (for example `import { Button } from "/components/ui/button"`). If the work needs anything else, write an ordinary code block instead of an artifact."#;

/// The shadcn/ui components the React preview provides, by file, with what each exports.
const SHADCN: [(&str, &str); 35] = [
    (
        "accordion",
        "Accordion, AccordionItem, AccordionTrigger, AccordionContent",
    ),
    ("alert", "Alert, AlertTitle, AlertDescription"),
    (
        "alert-dialog",
        "AlertDialog, AlertDialogTrigger, AlertDialogContent, AlertDialogHeader, AlertDialogFooter, AlertDialogTitle, AlertDialogDescription, AlertDialogAction, AlertDialogCancel",
    ),
    ("avatar", "Avatar, AvatarImage, AvatarFallback"),
    ("badge", "Badge"),
    (
        "breadcrumb",
        "Breadcrumb, BreadcrumbList, BreadcrumbItem, BreadcrumbLink, BreadcrumbPage, BreadcrumbSeparator",
    ),
    ("button", "Button"),
    ("calendar", "Calendar"),
    (
        "card",
        "Card, CardHeader, CardTitle, CardDescription, CardContent, CardFooter",
    ),
    (
        "carousel",
        "Carousel, CarouselContent, CarouselItem, CarouselPrevious, CarouselNext",
    ),
    ("checkbox", "Checkbox"),
    (
        "collapsible",
        "Collapsible, CollapsibleTrigger, CollapsibleContent",
    ),
    (
        "dialog",
        "Dialog, DialogTrigger, DialogContent, DialogHeader, DialogFooter, DialogTitle, DialogDescription",
    ),
    (
        "drawer",
        "Drawer, DrawerTrigger, DrawerContent, DrawerHeader, DrawerFooter, DrawerTitle, DrawerDescription, DrawerClose",
    ),
    (
        "dropdown-menu",
        "DropdownMenu, DropdownMenuTrigger, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator",
    ),
    ("input", "Input"),
    ("label", "Label"),
    (
        "menubar",
        "Menubar, MenubarMenu, MenubarTrigger, MenubarContent, MenubarItem, MenubarSeparator",
    ),
    (
        "navigation-menu",
        "NavigationMenu, NavigationMenuList, NavigationMenuItem, NavigationMenuTrigger, NavigationMenuContent, NavigationMenuLink",
    ),
    (
        "pagination",
        "Pagination, PaginationContent, PaginationItem, PaginationLink, PaginationPrevious, PaginationNext, PaginationEllipsis",
    ),
    ("popover", "Popover, PopoverTrigger, PopoverContent"),
    ("progress", "Progress"),
    ("radio-group", "RadioGroup, RadioGroupItem"),
    (
        "select",
        "Select, SelectTrigger, SelectValue, SelectContent, SelectItem",
    ),
    ("separator", "Separator"),
    ("skeleton", "Skeleton"),
    ("slider", "Slider"),
    ("switch", "Switch"),
    (
        "table",
        "Table, TableHeader, TableBody, TableFooter, TableRow, TableHead, TableCell, TableCaption",
    ),
    ("tabs", "Tabs, TabsList, TabsTrigger, TabsContent"),
    ("textarea", "Textarea"),
    (
        "toast",
        "Toast, ToastTitle, ToastDescription, ToastAction (with useToast from \"/components/ui/use-toast\" and Toaster from \"/components/ui/toaster\")",
    ),
    ("toggle", "Toggle"),
    ("toggle-group", "ToggleGroup, ToggleGroupItem"),
    (
        "tooltip",
        "TooltipProvider, Tooltip, TooltipTrigger, TooltipContent",
    ),
];

/// The `shadcnui` mode's addition: which components a React artifact may import, and from where.
fn shadcn_components() -> String {
    let mut out = String::from(
        "## shadcn/ui components for React artifacts\n\n\
         Prefer these ready-made, styled components where the interface calls for one. Import \
         each from its file, e.g. `import { Card, CardContent } from \"/components/ui/card\"` \
         (never from \"@/components/...\" or \"/components/<name>\"):\n",
    );
    for (file, exports) in SHADCN {
        out.push_str(&format!("- \"/components/ui/{file}\": {exports}\n"));
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_modes_are_librechats() {
        let default = instructions(Some("default")).unwrap();
        assert!(default.contains(":::artifact{identifier=\""));
        for t in [
            "text/html",
            "image/svg+xml",
            "text/markdown",
            "application/vnd.mermaid",
            "application/vnd.react",
        ] {
            assert!(default.contains(&format!("`{t}`")), "{t}");
        }
        assert!(!default.contains("/components/ui/accordion"));
        let shadcn = instructions(Some("shadcnui")).unwrap();
        assert!(shadcn.starts_with(&default));
        assert!(shadcn.contains("\"/components/ui/accordion\": Accordion"));
        assert_eq!(instructions(Some("custom")), None);
        assert_eq!(instructions(Some("")), None);
        assert_eq!(instructions(None), None);
        // LibreChat treats any other value as the default mode.
        assert_eq!(instructions(Some("on")), Some(default));
    }

    #[test]
    fn the_toggle_wins_over_the_setting() {
        let on = json!("shadcnui");
        assert_eq!(mode(Some("default"), Some(&on)), Some("default"));
        // LibreChat's client sends an empty string when its toggle is off.
        assert_eq!(mode(Some(""), Some(&on)), None);
        assert_eq!(mode(None, Some(&on)), Some("shadcnui"));
        assert_eq!(mode(None, Some(&json!(true))), None);
        assert_eq!(mode(None, None), None);
    }
}
