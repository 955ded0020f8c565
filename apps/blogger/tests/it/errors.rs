//! Errors name the file and the line, and one bad source never breaks the
//! others.

use crate::support::{TestResult, sample_copy};

fn chains(outcome: &blogger::Outcome) -> Vec<String> {
    outcome.errors.iter().map(|e| blogger::error_chain(e)).collect()
}

#[test]
fn a_bad_field_names_file_line_and_field_and_the_rest_is_built() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    std::fs::write(
        blog.join("articles/bad.md"),
        "---\ntitle: Bad\ndate: the day after\ntags: [x]\n---\nBody\n",
    )?;
    let outcome = blogger::build(&blogger::BuildOptions::new(&blog, &output))?;
    let chains = chains(&outcome);
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(
        chains[0].starts_with("articles/bad.md:3: front matter: field `date`"),
        "{chains:?}"
    );
    assert_eq!(outcome.articles, 4);
    assert!(output.join("articles/code.html").is_file());
    assert!(!output.join("articles/bad.html").exists());
    assert!(!std::fs::read_to_string(output.join("index.html"))?.contains("bad.html"));
    Ok(())
}

#[test]
fn syntax_errors_and_missing_fields() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    std::fs::write(
        blog.join("articles/toml.md"),
        "+++\ntitle = \"T\"\ndate = 2024-01-01\ntags = [\n+++\n",
    )?;
    std::fs::write(blog.join("articles/nodate.md"), "---\ntitle: No date\n---\n")?;
    std::fs::write(
        blog.join("articles/typo.md"),
        "---\ntitle: T\ndate: 2024-01-01\n\ntagz: [a]\n---\n",
    )?;
    std::fs::write(blog.join("articles/none.md"), "Just text\n")?;
    let outcome = blogger::build(&blogger::BuildOptions::new(&blog, &output))?;
    let chains = chains(&outcome);
    assert_eq!(chains.len(), 4, "{chains:?}");
    assert!(
        chains[0].starts_with("articles/nodate.md:1: field `date` is missing"),
        "{chains:?}"
    );
    assert!(
        chains[1].starts_with("articles/none.md:1: front matter: no front matter"),
        "{chains:?}"
    );
    assert!(
        chains[2].starts_with("articles/toml.md:4: front matter: TOML syntax"),
        "{chains:?}"
    );
    assert!(
        chains[3].starts_with("articles/typo.md:5: front matter: field `tagz`: unknown field"),
        "{chains:?}"
    );
    assert_eq!(outcome.articles, 4);
    Ok(())
}

#[test]
fn an_article_that_breaks_keeps_its_last_good_page() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    let before = std::fs::read(output.join("articles/code.html"))?;
    let path = blog.join("articles/code.md");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replace("date: 2024-03-10 14:00", "date: [oops]"))?;
    let outcome = blogger::build(&options)?;
    assert_eq!(chains(&outcome).len(), 1);
    assert!(
        chains(&outcome)[0].starts_with("articles/code.md:3:"),
        "{:?}",
        chains(&outcome)
    );
    assert_eq!(std::fs::read(output.join("articles/code.html"))?, before);
    assert!(std::fs::read_to_string(output.join("index.html"))?.contains("code.html"));
    // Fixed: built again.
    std::fs::write(&path, text.replace("Some Rust:", "Fixed Rust:"))?;
    let outcome = blogger::build(&options)?;
    assert!(outcome.errors.is_empty());
    assert!(std::fs::read_to_string(output.join("articles/code.html"))?.contains("Fixed Rust:"));
    Ok(())
}

#[test]
fn broken_links_and_missing_images_name_their_line() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    std::fs::write(
        blog.join("articles/links.md"),
        "---\ntitle: Links\ndate: 2024-06-01\n---\nGood: [code](code.html), [tags](/tags/), [out](https://example.com/x).\n\n\
         Broken: [gone](gone.html).\n\n![nothing](../img/none.png)\n",
    )?;
    let mut options = blogger::BuildOptions::new(&blog, &output);
    let outcome = blogger::build(&options)?;
    assert_eq!(
        chains(&outcome),
        ["articles/links.md:9: missing image \"../img/none.png\""],
        "images are always checked, links on request"
    );
    options.check_links = true;
    let outcome = blogger::build(&options)?;
    assert_eq!(
        chains(&outcome),
        [
            "articles/links.md:7: broken link \"gone.html\"",
            "articles/links.md:9: missing image \"../img/none.png\""
        ]
    );
    assert!(
        output.join("articles/links.html").is_file(),
        "the page is still written"
    );
    Ok(())
}

#[test]
fn template_and_configuration_errors_name_their_line() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    std::fs::create_dir_all(blog.join("templates"))?;
    std::fs::write(
        blog.join("templates/article.html"),
        "<html>\n<body>\n{{ article.title }\n</body></html>\n",
    )?;
    let error = blogger::build(&blogger::BuildOptions::new(&blog, &output))
        .err()
        .ok_or("fails")?;
    let chain = blogger::error_chain(&error);
    assert!(
        chain.starts_with("template: templates/article.html:3: "),
        "{chain}"
    );
    std::fs::write(
        blog.join("templates/article.html"),
        "<html>\n{{ article.nosuchfield.x }}\n</html>\n",
    )?;
    let error = blogger::build(&blogger::BuildOptions::new(&blog, &output))
        .err()
        .ok_or("fails")?;
    let chain = blogger::error_chain(&error);
    assert!(
        chain.starts_with("template: templates/article.html:2: "),
        "{chain}"
    );
    std::fs::remove_file(blog.join("templates/article.html"))?;
    std::fs::write(blog.join("blogger.toml"), "title = \"x\"\n\nper_pgae = 3\n")?;
    let error = blogger::build(&blogger::BuildOptions::new(&blog, &output))
        .err()
        .ok_or("fails")?;
    let chain = blogger::error_chain(&error);
    assert!(
        chain.starts_with("configuration: blogger.toml:3: unknown field `per_pgae`"),
        "{chain}"
    );
    Ok(())
}
